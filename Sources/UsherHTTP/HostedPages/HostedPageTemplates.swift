import UsherLiquid

/// Usher's built-in hosted pages, as Liquid templates parsed once at start-up.
///
/// Every value is escaped with `| escape`; scripts carry the response's CSP nonce. The reset form works without
/// JavaScript (the server picks invite or reset wording from the `type` query parameter or the user's
/// `app_metadata.needsInvitation`); with JavaScript it also follows a `#type=…` fragment and checks the password
/// rules as the person types.
enum HostedPageTemplates {
    static let layoutHead = """
        <!doctype html>
        <html lang="{{ lang | default: 'en' | escape }}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{{ page_title | escape }}{% if tenant.friendly_name %} · {{ tenant.friendly_name | escape }}{% endif %}</title>
        <style>
        body{margin:0;background:#f4f5f7;font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2430;line-height:1.5}
        main{max-width:440px;margin:48px auto;background:#fff;border-radius:10px;padding:32px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
        h1{font-size:1.45rem;margin:0 0 12px}
        label{display:block;font-weight:600;margin:18px 0 6px}
        input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:10px 12px;font-size:1rem;border:1px solid #9aa1ad;border-radius:6px}
        input:focus{outline:3px solid #9db5ff;border-color:#2f5bea}
        button{margin-top:22px;width:100%;padding:12px;font-size:1rem;font-weight:600;color:#fff;background:#2f5bea;border:0;border-radius:6px;cursor:pointer}
        button:focus{outline:3px solid #9db5ff}
        #errors{background:#fdecec;border:1px solid #e5a3a3;color:#8a1c1c;border-radius:6px;padding:10px 12px;margin:12px 0}
        #errors:empty{display:none}
        #password-rules{padding-left:0;list-style:none;font-size:.92rem;margin:8px 0 0}
        #password-rules li{padding-left:1.5em;position:relative;margin:2px 0}
        #password-rules li::before{position:absolute;left:0;content:"○";color:#6b7280}
        #password-rules li.met::before{content:"✓";color:#137333}
        #password-rules li.unmet{color:#374151}
        #password-rules li.met{color:#137333}
        .hint{font-size:.9rem;color:#4b5563}
        .match{font-size:.9rem;margin-top:6px;min-height:1.3em}
        footer{font-size:.85rem;color:#6b7280;margin-top:28px}
        a{color:#2f5bea}
        </style>
        </head>
        <body>
        <main>
        """

    static let layoutFoot = """
        <footer>{% if tenant.support_email %}{{ common.helpText | escape }} <a href="mailto:{{ tenant.support_email | escape }}">{{ tenant.support_email | escape }}</a>{% endif %}
        {% if tenant.support_url %} <a href="{{ tenant.support_url | escape }}">{{ common.supportLinkText | escape }}</a>{% endif %}</footer>
        </main>
        </body>
        </html>
        """

    /// The reset / invitation form. Variables: Auth0's (`email`, `ticket`, `csrf_token`, `password_policy`,
    /// `password_complexity_options`, `tenant.*`, `lang`) and Usher's (`type`, `user`, `query`, `rules`,
    /// `rules_json`, `errors`, `application`, `csp_nonce`, `titles`, `intro`, `texts` — the `reset-password` screen's
    /// texts in the page's language — `match_text`, `mismatch_text`).
    static let resetForm =
        layoutHead + """
            <h1 id="title" data-invite="{{ titles.invite | escape }}" data-reset="{{ titles.reset | escape }}">{% if type == 'invite' %}{{ titles.invite | escape }}{% else %}{{ titles.reset | escape }}{% endif %}</h1>
            <p id="intro" class="hint" data-invite="{{ intro.invite | escape }}" data-reset="{{ intro.reset | escape }}">{% if type == 'invite' %}{{ intro.invite | escape }}{% else %}{{ intro.reset | escape }}{% endif %}</p>
            <div role="alert" id="errors" aria-live="assertive">{% for error in errors %}<p>{{ error | escape }}</p>{% endfor %}</div>
            <form id="reset-form" method="post" action="/lo/reset" novalidate>
            <input type="hidden" name="_csrf" value="{{ csrf_token | escape }}">
            <input type="hidden" name="ticket" value="{{ ticket | escape }}">
            <input type="hidden" name="email" value="{{ email | escape }}">
            <input type="hidden" name="type" value="{{ type | escape }}">
            <input type="text" name="username" value="{{ email | escape }}" autocomplete="username" hidden>
            <label for="newPassword">{{ texts.passwordPlaceholder | escape }}</label>
            <input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required aria-describedby="password-rules">
            <ul id="password-rules" aria-label="{{ texts.passwordSecurityText | escape }}">
            {% for rule in rules %}<li data-rule="{{ rule.key | escape }}" class="unmet">{{ rule.text | escape }}</li>
            {% endfor %}</ul>
            <label for="confirmNewPassword">{{ texts.reEnterpasswordPlaceholder | escape }}</label>
            <input id="confirmNewPassword" name="confirmNewPassword" type="password" autocomplete="new-password" required>
            <div id="match" class="match" aria-live="polite" data-match="{{ match_text | escape }}" data-mismatch="{{ mismatch_text | escape }}"></div>
            <button type="submit" id="submit" data-invite="{{ texts.inviteButtonText | escape }}" data-reset="{{ texts.buttonText | escape }}">{% if type == 'invite' %}{{ texts.inviteButtonText | escape }}{% else %}{{ texts.buttonText | escape }}{% endif %}</button>
            </form>
            <script nonce="{{ csp_nonce | escape }}">
            (function () {
              var policy = {{ rules_json }};
              var m = /(?:^#|&)type=(invite|reset)(?:&|$)/.exec(window.location.hash || "");
              if (m) {
                var kind = m[1];
                ["title", "intro", "submit"].forEach(function (id) {
                  var el = document.getElementById(id);
                  if (el && el.dataset[kind]) { el.textContent = el.dataset[kind]; }
                });
                document.querySelector("input[name=type]").value = kind;
                document.title = document.getElementById("title").textContent;
              }
              var password = document.getElementById("newPassword");
              var confirm = document.getElementById("confirmNewPassword");
              var special = policy.special_characters || "";
              function classes(p) {
                return {
                  lowerCase: /[a-z]/.test(p), upperCase: /[A-Z]/.test(p), numbers: /[0-9]/.test(p),
                  specialCharacters: p.split("").some(function (c) { return special.indexOf(c) >= 0; })
                };
              }
              function longestRun(p) {
                var best = 0, run = 0, prev = null;
                Array.from(p).forEach(function (c) { run = c === prev ? run + 1 : 1; prev = c; best = Math.max(best, run); });
                return best;
              }
              function check(p) {
                var c = classes(p), count = [c.lowerCase, c.upperCase, c.numbers, c.specialCharacters].filter(Boolean).length;
                return {
                  length: p.length > 0 && p.length >= policy.min_length,
                  characters: policy.policy === "fair" ? (c.lowerCase && c.upperCase && c.numbers) : count >= 3,
                  identical: p.length > 0 && longestRun(p) <= (policy.max_identical_characters || 1000),
                  "max-bytes": new TextEncoder().encode(p).length <= policy.max_bytes
                };
              }
              function update() {
                var result = check(password.value);
                document.querySelectorAll("#password-rules li").forEach(function (li) {
                  var ok = result[li.dataset.rule];
                  if (ok === undefined) { return; }
                  li.className = ok ? "met" : "unmet";
                });
                var match = document.getElementById("match");
                if (!confirm.value) { match.textContent = ""; }
                else { match.textContent = confirm.value === password.value ? match.dataset.match : match.dataset.mismatch; }
              }
              password.addEventListener("input", update);
              confirm.addEventListener("input", update);
              update();
            })();
            </script>
            """ + layoutFoot

    /// A page with a title, a message and optionally the "send me a new link" form.
    /// Variables: `page_title`, `message`, `resend` (`{ticket, ask_email, email_label, button}`), `link` (`{href, text}`), `csrf_token`.
    static let message =
        layoutHead + """
            <h1 id="title">{{ page_title | escape }}</h1>
            {% for paragraph in paragraphs %}<p>{{ paragraph | escape }}</p>{% endfor %}
            {% if errors.size > 0 %}<div role="alert" id="errors">{% for error in errors %}<p>{{ error | escape }}</p>{% endfor %}</div>{% endif %}
            {% if resend %}
            <form id="resend-form" method="post" action="/lo/reset/resend">
            <input type="hidden" name="_csrf" value="{{ csrf_token | escape }}">
            {% if resend.ticket %}<input type="hidden" name="ticket" value="{{ resend.ticket | escape }}">{% endif %}
            {% if resend.ask_email %}<label for="email">{{ resend.email_label | escape }}</label>
            <input id="email" name="email" type="email" autocomplete="email" required>{% endif %}
            <button type="submit" id="resend">{{ resend.button | escape }}</button>
            </form>
            {% endif %}
            {% if confirm %}
            <form id="confirm-form" method="post" action="{{ confirm.action | escape }}">
            <input type="hidden" name="_csrf" value="{{ csrf_token | escape }}">
            <input type="hidden" name="ticket" value="{{ confirm.ticket | escape }}">
            <button type="submit" id="confirm">{{ confirm.label | escape }}</button>
            </form>
            {% endif %}
            {% if link %}<p><a id="continue" href="{{ link.href | escape }}">{{ link.text | escape }}</a></p>{% endif %}
            """ + layoutFoot

    static let parsedResetForm = try! LiquidTemplate.parse(resetForm, name: "reset-password")
    static let parsedMessage = try! LiquidTemplate.parse(message, name: "message")
}
