/** The console's stylesheet, served as `/console/assets/console.css` (the page allows no inline style). */
export const CONSOLE_CSS: string = `
:root {
  --bg: #f6f7f9; --panel: #fff; --text: #1c2330; --muted: #667085; --line: #e3e6ec; --accent: #2f6fed;
  --running: #2f6fed; --running-bg: #e8f0fe; --cancel: #a15c00; --cancel-bg: #fff3dc;
  --ok: #157a3c; --ok-bg: #e3f5ea; --fail: #b42318; --fail-bg: #fdecea; --cancelled: #4b5565; --cancelled-bg: #eef0f3;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  color-scheme: light;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .code { font-family: var(--mono); font-size: 12.5px; }
.hidden { display: none; }
.muted, .hint { color: var(--muted); }
.hint { font-size: 12.5px; margin: 6px 0 0; }
.offscreen { position: fixed; left: -9999px; top: 0; }

header.top { display: flex; align-items: center; gap: 24px; padding: 0 24px; height: 52px; background: #111827; color: #e5e7eb; }
.brand { color: #fff; font-weight: 650; font-size: 16px; display: flex; align-items: center; gap: 8px; }
.brand:hover { text-decoration: none; }
.brand-mark { color: #7aa7ff; font-size: 18px; }
.top-nav { display: flex; gap: 4px; flex: 1; }
.top-nav a { color: #cbd5e1; padding: 6px 12px; border-radius: 6px; }
.top-nav a.active, .top-nav a:hover { background: #1f2937; color: #fff; text-decoration: none; }
.who { display: flex; align-items: center; gap: 12px; font-size: 13px; }
.principal { display: flex; gap: 8px; align-items: center; }
.principal.muted { color: #9ca3af; }
.principal-name { color: #fff; font-weight: 600; }
.role { background: #374151; color: #e5e7eb; border-radius: 10px; padding: 1px 8px; font-size: 12px; }
button.link { background: none; border: none; color: #93b4ff; padding: 0; cursor: pointer; font: inherit; }

main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; }
button, select, input { font: inherit; color: inherit; }
button { border: 1px solid var(--line); background: var(--panel); border-radius: 6px; padding: 6px 12px; cursor: pointer; }
button:hover:not(:disabled) { border-color: #c7ccd6; background: #fafbfc; }
button:disabled { opacity: .5; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover:not(:disabled) { background: #2559c9; }
button.danger { color: var(--fail); border-color: #f1b5ae; }
button.danger:hover:not(:disabled) { background: var(--fail-bg); }
dialog button.danger { background: var(--fail); color: #fff; border-color: var(--fail); }
button.warn { color: var(--cancel); border-color: #f0cf98; }
button.warn:hover:not(:disabled) { background: var(--cancel-bg); }
input[type=text], input[type=search], input[type=password], select {
  border: 1px solid var(--line); background: var(--panel); border-radius: 6px; padding: 6px 10px; }
input:focus, select:focus, button:focus-visible { outline: 2px solid #9dbbfb; outline-offset: 1px; }
input.invalid { border-color: var(--fail); }

.toolbar { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin-bottom: 16px; }
.toolbar-row { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.field { display: flex; gap: 8px; align-items: center; }
.field-label { font-weight: 600; color: #344054; }
.parent-field { flex: 1; min-width: 320px; }
.parent-input { flex: 1; font-family: var(--mono); font-size: 13px; }
.filter-form { display: flex; gap: 8px; margin-top: 12px; }
.filter-input { flex: 1; font-family: var(--mono); font-size: 13px; }
.chips { display: flex; gap: 6px; margin-top: 10px; flex-wrap: wrap; }
.chip { border-radius: 14px; padding: 2px 12px; font-size: 12.5px; }
.chip.active { background: #111827; color: #fff; border-color: #111827; }
.filter-error, .error { margin-top: 10px; background: var(--fail-bg); color: var(--fail); border: 1px solid #f6c4be; border-radius: 8px; padding: 8px 12px; }
.filter-error pre.caret { margin: 6px 0 0; color: #7a271a; white-space: pre; overflow-x: auto; }
.flash { background: var(--ok-bg); color: var(--ok); border: 1px solid #b7e3c7; border-radius: 8px; padding: 8px 12px; margin-bottom: 12px; }
.empty { color: var(--muted); padding: 18px; text-align: center; }
button.newer { width: 100%; margin-bottom: 12px; background: var(--running-bg); color: var(--running); border-color: #c6d8fb; }

.live { font-size: 12px; color: var(--muted); display: inline-flex; align-items: center; gap: 6px; }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: #c0c6d0; }
.live[data-state=live]::before { background: #22a55a; box-shadow: 0 0 0 3px #d5f2e0; }
.live[data-state=polling]::before { background: #e8a33d; }

.table-wrap { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; overflow-x: auto; }
table.ops { width: 100%; border-collapse: collapse; }
table.ops th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  font-weight: 600; padding: 10px 14px; border-bottom: 1px solid var(--line); background: #fafbfc; }
table.ops td { padding: 9px 14px; border-bottom: 1px solid #eef0f4; vertical-align: middle; white-space: nowrap; }
table.ops tr:last-child td { border-bottom: none; }
table.ops tbody tr:hover { background: #f8faff; }
table.ops tr.fresh { animation: fresh 2s ease-out; }
table.ops tr.deleted td { opacity: .55; }
table.ops tr.deleted .op-id { text-decoration: line-through; }
@keyframes fresh { from { background: #fff7d6; } to { background: transparent; } }
.name-cell { max-width: 460px; }
.op-link { display: flex; flex-direction: column; overflow: hidden; }
.op-id { font-family: var(--mono); font-size: 13px; overflow: hidden; text-overflow: ellipsis; }
.op-parent { font-size: 12px; color: var(--muted); font-family: var(--mono); }
.type-cell { font-family: var(--mono); font-size: 12px; color: #475467; }
.pager { display: flex; justify-content: space-between; align-items: center; margin-top: 12px; }
.page-info { color: var(--muted); font-size: 13px; }

.badge { display: inline-block; border-radius: 10px; padding: 1px 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.state-running.badge { background: var(--running-bg); color: var(--running); }
.state-cancel-requested.badge { background: var(--cancel-bg); color: var(--cancel); }
.state-succeeded.badge { background: var(--ok-bg); color: var(--ok); }
.state-failed.badge { background: var(--fail-bg); color: var(--fail); }
.state-cancelled.badge { background: var(--cancelled-bg); color: var(--cancelled); }
.state-deleted.badge { background: #f2f4f7; color: #98a2b3; text-decoration: line-through; }

.progress { display: inline-flex; align-items: center; gap: 8px; }
progress { width: 110px; height: 8px; appearance: none; border: none; border-radius: 4px; overflow: hidden; background: #e7eaf0; }
progress::-webkit-progress-bar { background: #e7eaf0; border-radius: 4px; }
progress::-webkit-progress-value { background: var(--accent); border-radius: 4px; }
progress::-moz-progress-bar { background: var(--accent); }
.progress-label { font-size: 12px; color: #475467; font-variant-numeric: tabular-nums; min-width: 36px; }
time.rel { color: #475467; }

.crumbs { font-size: 13px; color: var(--muted); margin-bottom: 12px; }
.detail-top { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; margin-bottom: 16px; }
.detail-head h1 { margin: 0 0 6px; font-size: 20px; font-family: var(--mono); font-weight: 600; word-break: break-all; }
.head-badges { display: flex; gap: 12px; align-items: center; }
.op-fullname { font-family: var(--mono); font-size: 12px; color: var(--muted); margin-top: 6px; word-break: break-all; }
.detail-side { display: flex; flex-direction: column; align-items: flex-end; gap: 10px; }
.actions { display: flex; gap: 8px; }
.detail-grid { display: grid; grid-template-columns: minmax(0, 1fr) 380px; gap: 16px; align-items: start; }
@media (max-width: 960px) { .detail-grid { grid-template-columns: 1fr; } }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin-bottom: 16px; }
.card h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: #475467; margin: 0 0 10px; }
.error-line { margin: 0 0 10px; }
.code-name { font-family: var(--mono); font-weight: 700; color: var(--fail); }
.error-message { white-space: pre-wrap; word-break: break-word; }

.timeline { list-style: none; margin: 0; padding: 0 0 0 14px; border-left: 2px solid var(--line); }
.timeline li { position: relative; padding: 0 0 12px 10px; display: flex; flex-direction: column; }
.timeline li::before { content: ""; position: absolute; left: -21px; top: 4px; width: 10px; height: 10px; border-radius: 50%; background: #c0c6d0; border: 2px solid var(--panel); }
.timeline li.tl-created::before { background: var(--accent); }
.timeline li.tl-cancel::before { background: #e8a33d; }
.timeline li.tl-done::before { background: var(--ok); }
.timeline li.tl-pending { color: var(--muted); }
.tl-label { font-weight: 600; }
.tl-exact { font-family: var(--mono); font-size: 11.5px; color: var(--muted); }
.tl-detail { font-size: 12.5px; color: #475467; word-break: break-word; }

.json { font-family: var(--mono); font-size: 12.5px; line-height: 1.55; overflow-x: auto; padding-left: 16px; }
.j-line { white-space: pre-wrap; word-break: break-word; }
.j-children { padding-left: 18px; border-left: 1px dotted #e0e3ea; margin-left: 5px; }
.j-node.collapsed > .j-children, .j-node.collapsed > .j-close { display: none; }
.j-node:not(.collapsed) > .j-line > .j-summary { display: none; }
.j-summary { color: var(--muted); }
.j-toggle { border: none; background: none; padding: 0 4px 0 0; margin-left: -14px; width: 14px; color: #98a2b3; cursor: pointer; font-size: 11px; }
.j-key { color: #8a3ffc; }
.j-str { color: #0e7c42; }
.j-num { color: #b54708; }
.j-bool, .j-null { color: #2f6fed; }

details.raw summary { cursor: pointer; font-weight: 600; color: #475467; }
.command { margin-top: 10px; }
.command-head { display: flex; justify-content: space-between; align-items: center; font-size: 12.5px; color: #475467; margin-bottom: 4px; }
.copy { padding: 2px 10px; font-size: 12px; }
pre.code { margin: 0; background: #0f172a; color: #e2e8f0; border-radius: 8px; padding: 10px 12px; white-space: pre-wrap; word-break: break-all; max-height: 480px; overflow: auto; }

.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin-bottom: 16px; }
.count-card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; color: var(--text); display: flex; flex-direction: column; gap: 2px; border-top: 4px solid #c0c6d0; }
.count-card:hover { text-decoration: none; border-color: #c7ccd6; }
.count-card.state-running { border-top-color: var(--running); }
.count-card.state-cancel-requested { border-top-color: #e8a33d; }
.count-card.state-succeeded { border-top-color: var(--ok); }
.count-card.state-failed { border-top-color: var(--fail); }
.count-card.state-cancelled { border-top-color: var(--cancelled); }
.count-card.total { border-top-color: #111827; }
.count { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.count-label { color: var(--muted); font-size: 12.5px; overflow-wrap: anywhere; }
.chart-head { display: flex; justify-content: space-between; align-items: baseline; }
.legend { font-size: 12.5px; color: #475467; display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
.swatch.created, .bar.created { background: var(--accent); fill: var(--accent); }
.swatch.finished, .bar.finished { background: #22a55a; fill: #22a55a; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .axis { stroke: #d0d5dd; }
svg.chart .tick { font-size: 10px; fill: var(--muted); }

form.signin { max-width: 440px; margin: 48px auto; display: flex; flex-direction: column; gap: 12px; padding: 24px; }
form.signin h1 { margin: 0; font-size: 20px; }
form.signin .field { flex-direction: column; align-items: stretch; }
.form-error { color: var(--fail); min-height: 1.2em; font-size: 13px; }

dialog.confirm { border: none; border-radius: 12px; padding: 20px 22px; max-width: 480px; box-shadow: 0 20px 50px rgba(16,24,40,.25); }
dialog.confirm::backdrop { background: rgba(16,24,40,.45); }
dialog.confirm h2 { margin: 0 0 8px; font-size: 17px; }
.confirm-body code { word-break: break-all; }
.confirm-actions { display: flex; justify-content: flex-end; gap: 8px; margin-top: 16px; }
.boot { color: var(--muted); }
`;
