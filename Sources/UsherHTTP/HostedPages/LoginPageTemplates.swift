import UsherLiquid

/// The Universal Login page: a page template with Auth0's `{%- auth0:head -%}` and `{%- auth0:widget -%}` slots
/// (replaceable with `PUT /api/v2/branding/templates/universal-login`), and Usher's widget that fills them.
enum LoginPageTemplates {
    static let defaultPage = """
        <!doctype html>
        <html lang="{{ locale | default: 'en' | escape }}">
        <head>
        {%- auth0:head -%}
        <title>{{ prompt.screen.texts.title | escape }}{% if application.name %} · {{ application.name | escape }}{% endif %}</title>
        </head>
        <body class="_widget-auto-layout">
        {%- auth0:widget -%}
        </body>
        </html>
        """

    static let head = """
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <style>
        body{margin:0;background:#f4f5f7;font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2430;line-height:1.5}
        ._widget-auto-layout{display:flex;justify-content:center}
        .usher-widget{width:100%;max-width:400px;margin:48px 16px;background:#fff;border-radius:10px;padding:32px;box-shadow:0 1px 3px rgba(0,0,0,.12);box-sizing:border-box}
        .usher-widget h1{font-size:1.4rem;margin:0 0 6px}
        .usher-widget label{display:block;font-weight:600;margin:16px 0 6px}
        .usher-widget input[type=email],.usher-widget input[type=password]{width:100%;box-sizing:border-box;padding:10px 12px;font-size:1rem;border:1px solid #9aa1ad;border-radius:6px}
        .usher-widget button{margin-top:22px;width:100%;padding:12px;font-size:1rem;font-weight:600;color:#fff;background:#2f5bea;border:0;border-radius:6px;cursor:pointer}
        .usher-widget #errors{background:#fdecec;border:1px solid #e5a3a3;color:#8a1c1c;border-radius:6px;padding:10px 12px;margin:12px 0}
        .usher-widget #errors:empty{display:none}
        .usher-widget .links{margin-top:18px;font-size:.92rem}
        .usher-widget a{color:#2f5bea}
        </style>
        """

    static let widget = """
        <main class="usher-widget">
        <h1 id="title">{{ title | escape }}</h1>
        <p class="hint">to continue to {{ application_name | escape }}</p>
        <div role="alert" id="errors" aria-live="assertive">{% for error in errors %}<p>{{ error | escape }}</p>{% endfor %}</div>
        <form id="login-form" method="post" action="/u/login">
        <input type="hidden" name="state" value="{{ state | escape }}">
        <input type="hidden" name="_csrf" value="{{ csrf_token | escape }}">
        <label for="username">Email address</label>
        <input id="username" name="username" type="email" autocomplete="username" required value="{{ username | escape }}" autofocus>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <button type="submit" id="continue">Continue</button>
        </form>
        {% if forgot_url %}<p class="links"><a id="forgot" href="{{ forgot_url | escape }}">Forgot password?</a></p>{% endif %}
        </main>
        """

    static let parsedDefaultPage = try! LiquidTemplate.parse(defaultPage, name: "universal-login")
    static let parsedWidget = try! LiquidTemplate.parse(widget, name: "login-widget")
}
