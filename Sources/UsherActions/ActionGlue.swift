/// The JavaScript evaluated in every fresh context before an Action's code.
///
/// Why JavaScript and not native callbacks: `api.*` calls only need recording, and recording them in the
/// context (serialized with `JSON.stringify` at call time, so later mutation of the value does not change
/// what was recorded) is both faster and simpler than crossing into Swift for every call. Swift reads one
/// JSON report at the end.
///
/// Why the captured intrinsics: the Action runs in the same global scope and may replace `JSON`, `Promise`,
/// `String`, or poison `Object.prototype`. Everything the glue uses is captured before the Action's code
/// runs, recorded values live in closure variables and Maps driven through captured methods, and the report
/// is built by string concatenation of primitives, so tampering can break only the Action itself, never the
/// host's view of what it did.
///
/// The script evaluates to a function returning `{start, report}`; that object is not reachable from the
/// global object, only Swift holds it.
enum ActionGlue {
    /// Wrapper that turns the Action's source into a CommonJS module function. It shares line 1 with the
    /// code (so line numbers need no adjustment; only columns on line 1 shift by its length).
    static let modulePrefix = "(function (exports, require, module, __filename, __dirname) {"
    static let moduleSuffix = "\n})"
    /// The source URL the Action's code is evaluated under; errors carrying it point into the Action.
    static let sourceURL = "action.js"

    static let source = #"""
        (function () {
          'use strict';
          const stringify = JSON.stringify;
          const parse = JSON.parse;
          const StringOf = String;
          const apply = Reflect.apply;
          const create = Object.create;
          const PromiseCtor = Promise;
          const promiseResolve = Promise.resolve;
          const promiseThen = Promise.prototype.then;
          const ErrorCtor = Error;
          const TypeErrorCtor = TypeError;
          const RangeErrorCtor = RangeError;
          const slice = String.prototype.slice;
          const replace = String.prototype.replace;
          const isArray = Array.isArray;
          const exec = RegExp.prototype.exec;
          const actionFrame = /action\.js:(\d+):(\d+)/;
          const sourceURL = 'action.js';
          let maxLog = 0;
          let maxRecorded = 0;

          // Globals an Action must not have: they would run code outside any execution (finalizers, Wasm
          // compilation on JavaScriptCore's deferred-work queue) or are a Node-only escape hatch we don't offer.
          delete globalThis.FinalizationRegistry;
          delete globalThis.WebAssembly;

          // Per-run state lives in closure variables and Maps: a fresh realm has no cached object shapes, and
          // adding properties to objects there costs a structure transition each; Map entries and closure
          // slots do not.
          const MapCtor = Map;
          const mapSet = Map.prototype.set;
          const mapForEach = Map.prototype.forEach;
          let status = 'idle';
          let errorText = null;
          let errorLine = null;
          let errorColumn = null;
          const appMetadata = new MapCtor();
          const userMetadata = new MapCtor();
          const idClaims = new MapCtor();
          const accessClaims = new MapCtor();
          let denyReason = null;
          let logsJSON = '';
          let logCount = 0;
          let logChars = 0;
          let truncated = false;
          let recorded = 0;
          const cache = create(null);

          function jsonOf(value) {
            if (value === undefined) return 'null';
            const text = stringify(value);
            return text === undefined ? 'null' : text;
          }

          function record(map, key, value, what) {
            if (typeof key !== 'string') throw new TypeErrorCtor(what + ': the key must be a string');
            const text = jsonOf(value);
            recorded += key.length + text.length;
            if (recorded > maxRecorded) {
              throw new RangeErrorCtor(what + ': recorded changes exceed ' + maxRecorded + ' characters');
            }
            apply(mapSet, map, [key, text]);
          }

          function formatValue(value) {
            if (typeof value === 'string') return value;
            try {
              if (value instanceof ErrorCtor) return StringOf(value);
              const text = stringify(value);
              if (text !== undefined) return text;
            } catch (e) {}
            try { return StringOf(value); } catch (e) { return '[unprintable]'; }
          }

          // Node's console.log: a leading format string with %s %d %i %f %j %o %O %%, then the rest joined by spaces.
          function formatArgs(args) {
            let index = 0;
            let out = '';
            if (typeof args[0] === 'string' && args.length > 1) {
              index = 1;
              out = apply(replace, args[0], [/%[sdifjoO%]/g, function (token) {
                if (token === '%%') return '%';
                if (index >= args.length) return token;
                const value = args[index++];
                if (token === '%d' || token === '%i') return StringOf(token === '%i' ? (value | 0) : +value);
                if (token === '%f') return StringOf(+value);
                if (token === '%s' && typeof value !== 'object') return StringOf(value);
                return formatValue(value);
              }]);
            } else if (args.length > 0) {
              out = formatValue(args[0]);
              index = 1;
            }
            for (; index < args.length; index++) out += ' ' + formatValue(args[index]);
            return out;
          }

          function log(level, args) {
            if (truncated) return;
            let message = formatArgs(args);
            const remaining = maxLog - logChars;
            if (message.length > remaining) {
              message = apply(slice, message, [0, remaining > 0 ? remaining : 0]) + ' …[log truncated]';
              truncated = true;
            }
            logChars += message.length;
            logsJSON += (logCount === 0 ? '' : ',') + '{"level":' + stringify(level) + ',"message":' + stringify(message) + '}';
            logCount++;
          }

          function makeConsole() {
            const c = {};
            const levels = ['log', 'info', 'warn', 'error', 'debug'];
            for (let i = 0; i < levels.length; i++) {
              const level = levels[i];
              c[level] = function () { log(level, arguments); };
            }
            c.trace = c.debug;
            return c;
          }

          function unsupported(name) {
            return function () { throw new ErrorCtor(name + ' is not supported by Usher Actions'); };
          }

          const api = {
            user: {
              setAppMetadata(key, value) { record(appMetadata, key, value, 'api.user.setAppMetadata'); return api; },
              setUserMetadata(key, value) { record(userMetadata, key, value, 'api.user.setUserMetadata'); return api; },
            },
            access: {
              deny(reason) { denyReason = reason === undefined ? '' : StringOf(reason); return api; },
            },
            idToken: {
              setCustomClaim(key, value) { record(idClaims, key, value, 'api.idToken.setCustomClaim'); return api; },
            },
            accessToken: {
              setCustomClaim(key, value) { record(accessClaims, key, value, 'api.accessToken.setCustomClaim'); return api; },
              addScope: unsupported('api.accessToken.addScope'),
              removeScope: unsupported('api.accessToken.removeScope'),
            },
            // Redirects need the /continue endpoint; well-written Actions ask canRedirect() first.
            redirect: {
              canRedirect() { return false; },
              sendUserTo: unsupported('api.redirect.sendUserTo'),
              encodeToken: unsupported('api.redirect.encodeToken'),
              validateToken: unsupported('api.redirect.validateToken'),
            },
            multifactor: { enable: unsupported('api.multifactor.enable') },
            authentication: {
              challengeWith: unsupported('api.authentication.challengeWith'),
              challengeWithAny: unsupported('api.authentication.challengeWithAny'),
              enrollWith: unsupported('api.authentication.enrollWith'),
              enrollWithAny: unsupported('api.authentication.enrollWithAny'),
              recordMethod: unsupported('api.authentication.recordMethod'),
              setPrimaryUser: unsupported('api.authentication.setPrimaryUser'),
            },
            session: { revoke: unsupported('api.session.revoke') },
            prompt: { render: unsupported('api.prompt.render') },
            validation: { error: unsupported('api.validation.error') },
            // Auth0's cache persists between executions; here it lives for one Action run only.
            cache: {
              get(key) { const k = StringOf(key); return k in cache ? { value: cache[k] } : undefined; },
              set(key, value) { cache[StringOf(key)] = StringOf(value); return { type: 'success' }; },
              delete(key) { delete cache[StringOf(key)]; return { type: 'success' }; },
            },
          };

          const allowedModules = create(null);
          function require(name) {
            const id = StringOf(name);
            if (id in allowedModules) return allowedModules[id];
            throw new ErrorCtor("module '" + id + "' is not available in Usher Actions");
          }

          globalThis.console = makeConsole();
          globalThis.require = require;

          function describe(error) {
            errorLine = null;
            errorColumn = null;
            try {
              if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
                const message = error.message;
                if (typeof message === 'string') {
                  const name = error.name;
                  // Position: the innermost frame in the Action's code (errors thrown by the glue, such as
                  // require's, carry the glue's own position in line/column).
                  const stack = error.stack;
                  const frame = typeof stack === 'string' ? apply(exec, actionFrame, [stack]) : null;
                  if (frame !== null) {
                    errorLine = +frame[1];
                    errorColumn = +frame[2];
                  } else if (error.sourceURL === sourceURL && typeof error.line === 'number') {
                    errorLine = error.line;
                    errorColumn = typeof error.column === 'number' ? error.column : null;
                  }
                  return (typeof name === 'string' && name !== '' ? name + ': ' : '') + message;
                }
              }
              return StringOf(error);
            } catch (e) {
              return '[unprintable error]';
            }
          }

          function fail(error) {
            status = 'rejected';
            errorText = describe(error);
          }
          function onFulfilled() { if (status === 'pending') status = 'fulfilled'; }
          function onRejected(error) { if (status === 'pending') fail(error); }

          function isPlainObject(value) { return value !== null && typeof value === 'object' && !isArray(value); }

          function start(moduleFunction, eventJSON, secretsJSON, logCharsUsed, maxLogCharacters, maxRecordedCharacters) {
            logChars = logCharsUsed;
            maxLog = maxLogCharacters;
            maxRecorded = maxRecordedCharacters;
            status = 'loading';
            try {
              const event = parse(eventJSON);
              event.secrets = parse(secretsJSON);
              const user = event.user;
              if (isPlainObject(user)) {
                if (!isPlainObject(user.app_metadata)) user.app_metadata = {};
                if (!isPlainObject(user.user_metadata)) user.user_metadata = {};
              }
              const module = { exports: {} };
              apply(moduleFunction, undefined, [module.exports, require, module, '/' + sourceURL, '/']);
              const exported = module.exports;
              const handler = exported === null || exported === undefined ? undefined : exported.onExecutePostLogin;
              if (typeof handler !== 'function') {
                status = 'invalid';
                errorText = 'exports.onExecutePostLogin is not a function';
                return;
              }
              status = 'pending';
              const result = apply(handler, exported, [event, api]);
              apply(promiseThen, apply(promiseResolve, PromiseCtor, [result]), [onFulfilled, onRejected]);
            } catch (error) {
              fail(error);
            }
          }

          function mapJSON(map) {
            let out = '{';
            apply(mapForEach, map, [function (text, key) {
              out += (out === '{' ? '' : ',') + stringify(key) + ':' + text;
            }]);
            return out + '}';
          }

          function report() {
            let out = '{"status":' + stringify(status);
            if (errorText !== null) {
              out += ',"error":' + stringify(errorText);
              if (errorLine !== null) out += ',"line":' + stringify(errorLine);
              if (errorColumn !== null) out += ',"column":' + stringify(errorColumn);
            }
            out += ',"appMetadata":' + mapJSON(appMetadata);
            out += ',"userMetadata":' + mapJSON(userMetadata);
            out += ',"idTokenClaims":' + mapJSON(idClaims);
            out += ',"accessTokenClaims":' + mapJSON(accessClaims);
            if (denyReason !== null) out += ',"deny":' + stringify(denyReason);
            out += ',"logs":[' + logsJSON + '],"logCharacters":' + stringify(logChars) + '}';
            return out;
          }

          return { start: start, report: report };
        })
        """#
}
