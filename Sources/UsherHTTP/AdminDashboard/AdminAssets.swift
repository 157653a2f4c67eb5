/// The dashboard's one stylesheet and one script, served from `/admin/assets` (the CSP allows no inline ones).
///
/// The script only adds comfort: copy buttons and a confirmation before destructive buttons. Every page works
/// without it.
enum AdminAssets {
    static let stylesheet = """
        :root{--ink:#1c2230;--muted:#4f5766;--line:#d5d9e0;--bg:#f4f5f7;--accent:#2446c7;--accent-ink:#fff;--ok:#136c2e;--warn:#8a5300;--bad:#a3161a}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
        a{color:var(--accent)}
        a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #8aa4ff;outline-offset:1px}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:2}
        header.top{background:#111827;color:#fff;padding:0 16px;display:flex;flex-wrap:wrap;align-items:center;gap:4px 20px}
        header.top .brand{font-weight:700;padding:12px 0;color:#fff;text-decoration:none}
        header.top nav ul{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;margin:0;padding:0}
        header.top nav a{color:#e5e7eb;text-decoration:none;padding:12px 0;display:inline-block}
        header.top nav a[aria-current=page]{color:#fff;border-bottom:3px solid #8aa4ff}
        header.top .who{margin-left:auto;display:flex;align-items:center;gap:12px;font-size:.9rem;color:#d1d5db}
        header.top .who button{background:transparent;color:#fff;border:1px solid #9ca3af;padding:4px 10px;margin:0}
        main{max-width:1100px;margin:24px auto;padding:0 16px}
        main.narrow{max-width:420px}
        .panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:20px;margin-bottom:20px}
        h1{font-size:1.5rem;margin:0 0 16px}
        h2{font-size:1.15rem;margin:0 0 12px}
        label{display:block;font-weight:600;margin:14px 0 4px}
        .field-hint{font-size:.9rem;color:var(--muted);margin:2px 0 0}
        input[type=text],input[type=email],input[type=password],input[type=number],input[type=search],select,textarea{width:100%;padding:8px 10px;font:inherit;border:1px solid #8b93a1;border-radius:6px;background:#fff;color:var(--ink)}
        textarea{min-height:7em;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.95rem}
        fieldset{border:1px solid var(--line);border-radius:6px;margin:14px 0 0;padding:8px 12px}
        legend{font-weight:600;padding:0 4px}
        .check{display:flex;gap:8px;align-items:center;font-weight:400;margin:6px 0}
        button,.button{display:inline-block;margin-top:16px;padding:9px 16px;font:inherit;font-weight:600;color:var(--accent-ink);background:var(--accent);border:0;border-radius:6px;cursor:pointer;text-decoration:none}
        button.secondary,.button.secondary{background:#fff;color:var(--accent);border:1px solid var(--accent)}
        button.danger{background:var(--bad)}
        .actions{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin-bottom:16px}
        .actions h1{margin:0}.actions .button{margin-top:0}
        form.panel:not(.filters){max-width:680px}
        .actions form{margin:0}
        .filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:0 12px;align-items:end}
        .filters button{margin-top:0;height:42px}
        table{width:100%;border-collapse:collapse;background:#fff}
        th,td{text-align:left;padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
        th{font-size:.85rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
        .table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
        th{overflow-wrap:normal}
        .badge{white-space:nowrap;display:inline-block;padding:1px 8px;border-radius:999px;font-size:.85rem;font-weight:600;border:1px solid currentColor}
        .badge.pending,.badge.queued,.badge.deferred{color:var(--warn)}
        .badge.accepted,.badge.sent{color:var(--ok)}
        .badge.expired,.badge.revoked{color:var(--muted)}
        .badge.abandoned{color:var(--bad)}
        .notice{border-radius:6px;padding:10px 12px;margin:0 0 16px;border:1px solid}
        .notice.ok{background:#eaf6ee;border-color:#9fd0ad;color:#0f5424}
        .notice.error{background:#fdecec;border-color:#e5a3a3;color:#8a1c1c}
        .notice p{margin:0}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0}
        dl.facts dt{font-weight:600;color:var(--muted)}
        dl.facts dd{margin:0;overflow-wrap:anywhere}
        code,.link{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem;overflow-wrap:anywhere}
        .copy-row{display:flex;gap:8px;align-items:center}
        .copy-row input{flex:1}
        .copy-row button{margin-top:0}
        .pager{display:flex;gap:16px;margin-top:12px;align-items:center}
        ol.history{margin:0;padding-left:1.2em}
        .muted{color:var(--muted)}
        @media (max-width:640px){th.optional,td.optional{display:none}header.top .who{margin-left:0}th,td{padding:6px}}
        """

    static let script = """
        (function () {
          document.querySelectorAll("[data-copy]").forEach(function (button) {
            button.hidden = false;
            button.addEventListener("click", function () {
              var field = document.getElementById(button.getAttribute("data-copy"));
              if (!field) { return; }
              field.select();
              var done = function () { button.textContent = "Copied"; };
              if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); }); }
              else { document.execCommand("copy"); done(); }
            });
          });
          document.querySelectorAll("form[data-confirm]").forEach(function (form) {
            form.addEventListener("submit", function (event) {
              if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
            });
          });
        })();
        """
}
