// System-library shim for JavaScriptCore (Debian: libjavascriptcoregtk-4.1-dev).
#include <JavaScriptCore/JavaScript.h>

// The execution time limit lives in WebKit's private JSContextRefPrivate.h, which Debian does not ship.
// The symbols are exported by libjavascriptcoregtk-4.1.so; these are their declarations.
typedef bool (*JSShouldTerminateCallback)(JSContextRef ctx, void *context);
JS_EXPORT void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group, double limit, JSShouldTerminateCallback callback, void *context);
JS_EXPORT void JSContextGroupClearExecutionTimeLimit(JSContextGroupRef group);
