extension StatusPage {
    /// The page's Mustache template. Every value goes through `{{…}}`, which HTML-escapes it (`<`, `>`, `&`,
    /// `"` and `'`), also inside quoted attributes; the raw forms `{{{…}}}` and `{{&…}}` are never used.
    static let templateText = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
        <meta name="referrer" content="no-referrer">
        {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">
        {{/refresh}}<title>promobot status</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <header>
        <h1>promobot status</h1>
        <p class="meta">{{#cycleTime}}Last cycle <time class="cycle" datetime="{{iso}}">{{text}}</time>{{/cycleTime}}{{^cycleTime}}No cycle time{{/cycleTime}}{{#refresh}} · reloads every {{refresh}}s{{/refresh}} · read-only</p>
        {{#emergencyStop}}<p class="stop" data-emergency-stop role="alert"><strong>Emergency stop:</strong> {{emergencyStop}}. promobot opens, updates and merges nothing until it is lifted.</p>
        {{/emergencyStop}}{{#hasErrors}}<section class="errors" role="alert">
        <h2>Errors in the last cycle</h2>
        <ul>
        {{#errors}}<li>{{.}}</li>
        {{/errors}}</ul>
        </section>
        {{/hasErrors}}</header>
        <main>
        {{#policies}}<section class="policy" data-policy="{{name}}">
        <h2>{{name}}</h2>
        <div class="stages">
        {{#stages}}<article class="stage state-{{stateClass}}" data-stage="{{key}}">
        <h3><span class="stage-name">{{name}}</span>{{#upstream}} <span class="from">from {{upstream}}</span>{{/upstream}}</h3>
        <p class="state"><span class="badge">{{state}}</span></p>
        <ul class="versions">
        {{#versions}}<li{{#drift}} class="drift"{{/drift}}>{{text}}</li>
        {{/versions}}</ul>
        {{#block}}<p class="blocked-reason">{{reason}}</p>
        {{#until}}<p class="until-line">until <time class="until" datetime="{{iso}}">{{text}}</time></p>
        {{/until}}{{/block}}{{#summary}}<p class="summary">{{summary}}</p>
        {{/summary}}{{#candidate}}<p class="candidate"><span class="label">candidate</span> {{candidate}}</p>
        {{/candidate}}{{#stageError}}<p class="error">error: {{stageError}}</p>
        {{/stageError}}{{#held}}<p class="held"><span class="label">held</span> {{.}}</p>
        {{/held}}{{#mergeRequests}}<p class="mr-line{{#isRollback}} rollback-mr{{/isRollback}}">{{#link}}<a class="mr" href="{{link}}" rel="noreferrer noopener">!{{iid}}</a>{{/link}}{{^link}}<span class="mr">!{{iid}}</span>{{/link}} {{mrState}}{{#approvals}} · <span class="approvals{{#approvalsMet}} met{{/approvalsMet}}">{{approvals}}</span>{{/approvals}}</p>
        {{/mergeRequests}}{{#rollback}}<p class="rollback">{{rollback}}</p>
        {{/rollback}}{{#notableGates}}<p class="gate {{status}}" data-gate="{{gateName}}"><span class="gate-name">{{gateName}}</span> <span class="gate-status">{{statusText}}</span>: {{gateReason}}</p>
        {{/notableGates}}{{#hasPassedGates}}<details class="gates"><summary>{{passedText}}</summary>
        <ul>
        {{#passedGates}}<li class="gate {{status}}" data-gate="{{gateName}}"><span class="gate-name">{{gateName}}</span>: {{gateReason}}</li>
        {{/passedGates}}</ul>
        </details>
        {{/hasPassedGates}}{{#hasChanges}}<details class="changes" open><summary>Recent changes</summary>
        <ol>
        {{#changes}}<li class="change {{kind}}">{{#when}}<time datetime="{{iso}}">{{text}}</time>{{/when}} <span class="kind">{{kind}}</span> by {{author}}: {{subject}} <code>{{commit}}</code></li>
        {{/changes}}</ol>
        </details>
        {{/hasChanges}}</article>
        {{/stages}}</div>
        </section>
        {{/policies}}{{^hasPolicies}}<p class="empty">(no policies)</p>
        {{/hasPolicies}}</main>
        <footer>
        <p>Amber = drift or waiting; red = trouble; ≠ stage = differs from the upstream stage (normal while a promotion is pending). Times are UTC.</p>
        </footer>
        </body>
        </html>

        """

    /// Mobile first: one column of stage cards, side by side from about 34rem; light and dark.
    static let css = """
        :root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#ffffff;--card:#f6f8fa;--line:#d1d9e0;\
        --ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--info:#0969da}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#151b23;--line:#3d444d;\
        --ok:#3fb950;--warn:#d29922;--bad:#f85149;--info:#4493f8}}
        *{box-sizing:border-box}
        body{margin:0 auto;max-width:90rem;padding:1rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;\
        color:var(--fg);background:var(--bg)}
        h1{font-size:1.35rem;margin:0 0 .2rem}
        h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
        h3{font-size:1rem;margin:0;display:flex;flex-wrap:wrap;align-items:baseline;gap:.2rem .5rem}
        p{margin:.3rem 0}
        .meta,.from,footer,.changes,.gates summary{color:var(--muted)}
        .from{font-weight:400;font-size:.85rem}
        .stop{border:2px solid var(--bad);color:var(--bad);border-radius:6px;padding:.5rem .75rem}
        .errors{border:1px solid var(--bad);border-radius:6px;padding:.4rem .75rem;margin:.6rem 0}
        .errors h2{font-size:.95rem;margin:0;color:var(--bad)}
        .errors ul{margin:.2rem 0;padding-left:1.2rem}
        .stages{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,17rem),1fr));gap:.75rem;align-items:start}
        .stage{background:var(--card);border:1px solid var(--line);border-top:4px solid var(--line);border-radius:6px;\
        padding:.55rem .75rem;min-width:0;overflow-wrap:anywhere}
        .state-ok{border-top-color:var(--ok)}.state-blocked,.state-waiting{border-top-color:var(--warn)}
        .state-acting{border-top-color:var(--info)}.state-error{border-top-color:var(--bad)}
        .badge{display:inline-block;font-size:.8rem;font-weight:600;padding:0 .5rem;border-radius:1rem;border:1px solid currentColor}
        .state-ok .badge{color:var(--ok)}.state-blocked .badge,.state-waiting .badge{color:var(--warn)}
        .state-acting .badge{color:var(--info)}.state-error .badge{color:var(--bad)}.state-first .badge{color:var(--muted)}
        .versions{list-style:none;margin:.35rem 0;padding:0;font:.9rem/1.4 ui-monospace,"DejaVu Sans Mono",monospace}
        .drift{color:var(--warn);font-weight:600}.error,.gate.failed .gate-status{color:var(--bad);font-weight:600}
        .blocked-reason{border-left:3px solid var(--warn);padding-left:.5rem}
        .until{font-weight:600}
        .label{font-size:.75rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
        .held,.rollback{color:var(--bad)}
        .gate{font-size:.9rem}.gate-name{font-weight:600}
        .gate.not-checked .gate-status{color:var(--muted);font-style:italic}
        .approvals{font-weight:600;color:var(--warn)}.approvals.met{color:var(--ok)}
        a{color:var(--info)}
        details{margin-top:.35rem;font-size:.85rem}
        details ul,details ol{margin:.2rem 0;padding-left:1.2rem}
        summary{cursor:pointer}
        time{white-space:nowrap}
        code{font-size:.8rem}
        footer{margin-top:1.5rem;font-size:.85rem;border-top:1px solid var(--line)}
        """
}
