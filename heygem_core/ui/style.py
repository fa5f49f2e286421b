"""The dashboard's look: one stylesheet, scoped to the app's own classes (all start with `hg-`)."""

CSS = """
<style>
:root { --hg-accent: #2563eb; --hg-accent-soft: #e8efff; --hg-text: #1f2937; --hg-muted: #6b7280;
        --hg-line: #e5e7eb; --hg-bg: #f6f7fb; --hg-ok: #15803d; --hg-bad: #b91c1c; }
body, .jp-Notebook, #rendered_cells { background: var(--hg-bg) !important; }
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC",
       "Droid Sans Fallback", Roboto, Helvetica, Arial, sans-serif; }
.jp-Cell, .jp-OutputArea-output { padding: 0 !important; }
.hg-app { max-width: 1180px; margin: 0 auto; padding: 20px 24px 48px; color: var(--hg-text);
          font-size: 14px; line-height: 1.5; box-sizing: border-box; }
.hg-app .widget-html-content, .hg-app .widget-label { line-height: 1.5; white-space: normal; }
.hg-header { display: flex; align-items: center; justify-content: space-between; margin-bottom: 12px; }
.hg-brand h1 { font-size: 22px; font-weight: 650; margin: 0; letter-spacing: .2px; }
.hg-brand p { margin: 2px 0 0; color: var(--hg-muted); font-size: 13px; }
.hg-app .jupyter-widget-TabPanel-tabBar { border-bottom: 1px solid var(--hg-line) !important;
          min-height: 42px !important; overflow: visible !important; }
.hg-app .jupyter-widget-TabPanel-tabBar .lm-TabBar-tab { font-size: 14.5px !important; padding: 0 22px !important;
          flex: 0 0 auto !important; min-width: 0 !important; max-width: none !important; line-height: 40px !important;
          min-height: 40px !important; background: transparent !important; border: none !important;
          margin: 0 4px 0 0 !important; color: var(--hg-muted) !important; }
.hg-app .jupyter-widget-TabPanel-tabBar .lm-TabBar-tab:hover { color: var(--hg-text) !important; }
.hg-app .jupyter-widget-TabPanel-tabBar .lm-TabBar-tab.lm-mod-current { color: var(--hg-accent) !important;
          border-bottom: 3px solid var(--hg-accent) !important; font-weight: 600 !important; transform: none !important; }
.hg-app .jupyter-widget-TabPanel-tabBar .lm-TabBar-tab.lm-mod-current:before { display: none !important; }
.hg-app .jupyter-widget-TabPanel-tabContents { background: transparent !important; border: none !important;
          padding: 18px 0 0 !important; overflow: visible !important; }
.hg-columns { gap: 20px; align-items: flex-start; }
.hg-col { flex: 1 1 0; min-width: 320px; gap: 14px; }
.hg-card { background: #fff; border: 1px solid var(--hg-line); border-radius: 10px; padding: 14px 16px;
           box-shadow: 0 1px 2px rgba(16,24,40,.04); box-sizing: border-box; }
.hg-section-title, .hg-field-title { font-weight: 600; font-size: 15px; }
.hg-field { gap: 6px; }
.hg-hint, .hg-muted { color: var(--hg-muted); font-size: 12.5px; }
.hg-ok { color: var(--hg-ok); }
.hg-error { color: var(--hg-bad); }
.hg-note { color: var(--hg-text); }
.hg-message .hg-error, .hg-action-message .hg-error { background: #fef2f2; border: 1px solid #fecaca;
           border-radius: 8px; padding: 6px 10px; }
.hg-message .hg-note, .hg-action-message .hg-note { background: var(--hg-accent-soft); border-radius: 8px;
           padding: 6px 10px; }
.hg-upload-status div { font-size: 13px; }
.hg-app .jupyter-button, .hg-app .widget-upload { border-radius: 8px; height: 34px; padding: 0 14px;
           font-size: 13.5px; }
.hg-app .jupyter-button.mod-primary { background: var(--hg-accent); }
.hg-app .hg-quiet { background: #fff; border: 1px solid var(--hg-line); color: var(--hg-text); }
.hg-app .hg-quiet:hover { background: #f3f4f6; }
.hg-app .hg-icon-only { padding: 0; text-overflow: clip; }
.hg-app .hg-go { height: 40px; font-size: 15px; font-weight: 600; padding: 0 26px; }
.hg-app .widget-upload { flex: 0 0 auto; background: var(--hg-accent-soft); color: var(--hg-accent); border: 1px dashed #9db8f5;
          font-size: 0; }
.hg-app .widget-upload i { font-size: 14px; margin-right: 6px; }
.hg-app .widget-upload::after { content: attr(title); font-size: 13.5px; }
.hg-chosen { gap: 4px; }
.hg-ellipsis { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.hg-app .widget-dropdown, .hg-app .widget-dropdown select { min-width: 0; max-width: 100%; }
.hg-chosen-name, .hg-library-item { display: flex; align-items: center; gap: 8px; min-width: 0; width: 100%; }
.hg-library-label > .widget-html-content, .hg-chosen-row .widget-html > .widget-html-content { width: 100%;
          min-width: 0; overflow: hidden; }
.hg-chosen-name .hg-ellipsis, .hg-library-name { flex: 1 1 auto; }
.hg-chosen-name .hg-muted, .hg-library-size { flex: 0 0 auto; }
.hg-library-box { gap: 6px; margin-top: 6px; }
.hg-library-bar { gap: 6px; flex-wrap: wrap; }
.hg-library-bar .hg-library-search { flex: 1 1 180px !important; }
.hg-library-bar .widget-text { margin: 0; }
.hg-library { max-height: 264px; overflow-y: auto !important; border: 1px solid var(--hg-line); border-radius: 8px;
          padding: 4px 6px; box-sizing: border-box; }
.hg-library-row { border-bottom: 1px solid #f1f2f4; min-height: 44px; }
.hg-library-row:last-child { border-bottom: none; }
.hg-library-row .widget-checkbox { margin: 0 6px 0 0; }
.hg-thumb { width: 56px; height: 36px; object-fit: cover; border-radius: 5px; background: #e5e7eb; flex: 0 0 auto;
          display: inline-flex; align-items: center; justify-content: center; color: var(--hg-muted); font-size: 12px; }
.hg-chosen-row { border: 1px solid var(--hg-line); border-radius: 8px; padding: 2px 4px 2px 10px; }
.hg-index { display: inline-block; min-width: 18px; color: var(--hg-muted); }
.hg-options .jupyter-widget-Collapse-header { background: #f9fafb; border: 1px solid var(--hg-line);
          border-radius: 8px; padding: 8px 12px; color: var(--hg-text); font-weight: 500; }
.hg-options .jupyter-widget-Collapse-open > .jupyter-widget-Collapse-header { background: var(--hg-accent-soft); }
.hg-options .jupyter-widget-Collapse-contents { border: none; padding: 8px 4px 4px; }
.hg-options .jupyter-widget-Accordion-child { margin-bottom: 6px; }
.hg-options .widget-slider .widget-readout { min-width: 56px; }
.hg-progress { gap: 6px; }
.hg-progress-line { font-size: 13.5px; }
.hg-name { font-weight: 600; }
.hg-bar .progress { height: 12px; border-radius: 6px; background: #eef1f6; }
.hg-bar .progress-bar { border-radius: 6px; transition: width .2s linear; }
.hg-bar.hg-running .progress-bar { background-image: linear-gradient(45deg, rgba(255,255,255,.25) 25%,
          transparent 25%, transparent 50%, rgba(255,255,255,.25) 50%, rgba(255,255,255,.25) 75%, transparent 75%,
          transparent); background-size: 24px 24px; animation: hg-stripes 1s linear infinite; }
@keyframes hg-stripes { from { background-position: 24px 0; } to { background-position: 0 0; } }
.hg-items { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 4px; }
.hg-items td { padding: 3px 6px; border-top: 1px solid var(--hg-line); vertical-align: top; }
.hg-items td:first-child { width: 18px; color: var(--hg-muted); }
.hg-items td:nth-child(3), .hg-items td:nth-child(4) { white-space: nowrap; color: var(--hg-muted); width: 1%; }
.hg-items .hg-done td:first-child { color: var(--hg-ok); }
.hg-items .hg-failed td:first-child { color: var(--hg-bad); }
.hg-items .hg-running td { font-weight: 600; }
.hg-result video, .hg-media video { width: 100%; border-radius: 8px; background: #111; display: block; }
.hg-result video { max-height: 440px; }
.hg-media video { aspect-ratio: 16 / 10; object-fit: contain; }
.hg-link { display: inline-block; padding: 5px 12px; border: 1px solid var(--hg-line); border-radius: 8px;
           color: var(--hg-text); text-decoration: none; font-size: 13px; background: #fff; }
.hg-link:hover { background: #f3f4f6; }
.hg-link.hg-primary { background: var(--hg-accent); color: #fff; border-color: var(--hg-accent); }
.hg-toolbar { gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
.hg-history-card { padding: 10px; gap: 6px; }
.hg-card-title { font-weight: 600; font-size: 14px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.hg-meta { color: var(--hg-muted); font-size: 12.5px; }
.hg-audio { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.hg-score { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; line-height: 18px; }
.hg-score-good { background: #dcfce7; color: #166534; }
.hg-score-fair { background: #fef3c7; color: #92400e; }
.hg-score-low { background: #fee2e2; color: #991b1b; }
.hg-score-none { background: #f3f4f6; color: var(--hg-muted); }
.hg-card-actions { align-items: center; gap: 6px; }
.hg-card-actions .hg-select { width: 28px !important; }
.hg-empty { color: var(--hg-muted); padding: 28px; text-align: center; border: 1px dashed var(--hg-line);
            border-radius: 10px; background: #fff; }
.hg-lang .widget-toggle-button { min-width: 72px; }
.hg-actions { gap: 12px; align-items: center; }
.hg-results-grid .widget-html-content { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
          gap: 12px; }
.hg-result-card { margin: 0; min-width: 0; }
.hg-result-card video { width: 100%; aspect-ratio: 16 / 10; object-fit: contain; border-radius: 8px;
          background: #111; display: block; }
.hg-result-card figcaption { display: flex; align-items: center; gap: 6px; margin-top: 4px; font-size: 13px; }
.hg-result-card figcaption .hg-ellipsis { flex: 1 1 auto; }
.hg-result-card figcaption .hg-link { padding: 1px 8px; }
.hg-result-actions { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-top: 8px; }
.hg-queue-tab { gap: 14px; }
.hg-queue, .hg-failed-list { gap: 6px; }
.hg-queue-row { border: 1px solid var(--hg-line); border-radius: 8px; padding: 6px 8px 6px 10px; gap: 8px; }
.hg-queue-row .widget-hbox { gap: 6px; }
.hg-queue-head { display: flex; gap: 8px; align-items: center; min-width: 0; }
.hg-queue-items { display: flex; flex-wrap: wrap; gap: 4px 12px; color: var(--hg-muted); font-size: 12.5px; }
.hg-queue-item { max-width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.hg-queue-item.hg-running { color: var(--hg-accent); font-weight: 600; }
.hg-queue-item.hg-done { color: var(--hg-ok); }
.hg-strong { font-weight: 600; }
.hg-why { font-size: 12px; color: var(--hg-muted); }
.hg-why summary { cursor: pointer; }
.hg-upload-box-audio, .hg-upload-box-video { border: 1.5px dashed transparent; border-radius: 10px;
          margin: -4px; padding: 4px; transition: border-color .15s, background .15s; }
.hg-drop-over { border-color: var(--hg-accent) !important; background: var(--hg-accent-soft); }
.hg-transfers { display: flex; flex-direction: column; gap: 3px; margin-top: 4px; font-size: 12.5px; }
.hg-transfer { display: flex; align-items: center; gap: 8px; min-width: 0; }
.hg-transfer-name { flex: 1 1 auto; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.hg-transfer progress { flex: 0 0 40%; height: 8px; accent-color: var(--hg-accent); }
.hg-transfer-pct { flex: 0 0 36px; text-align: right; color: var(--hg-muted); }
.hg-progress.hg-flash { box-shadow: 0 0 0 3px var(--hg-accent-soft), 0 0 0 4px var(--hg-accent);
          transition: box-shadow .3s; }
.hg-compare-open { font: inherit; font-size: 13px; padding: 4px 10px; border: 1px solid var(--hg-line);
          border-radius: 8px; background: #fff; color: var(--hg-accent); cursor: pointer; white-space: nowrap; }
.hg-compare-open:hover { background: var(--hg-accent-soft); }
.hg-card-actions .widget-html-content { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.hg-result-card figcaption .hg-compare-open { padding: 1px 8px; }
.hg-set-row .widget-dropdown > label { font-weight: 600; }
.hg-set-save-row { margin-top: 8px; }
#hg-compare { position: fixed; inset: 0; z-index: 1100; background: rgba(17, 24, 39, .72); display: flex;
          align-items: center; justify-content: center; padding: 16px; box-sizing: border-box; }
.hg-compare-box { background: #fff; border-radius: 12px; padding: 12px 16px 14px; width: min(1100px, 100%);
          max-height: 100%; overflow: auto; box-sizing: border-box; color: var(--hg-text); font-size: 14px;
          font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", Roboto, sans-serif; }
.hg-compare-head { display: flex; justify-content: space-between; align-items: center; gap: 8px;
          margin-bottom: 8px; font-weight: 600; }
.hg-compare-title { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.hg-compare-head button, .hg-compare-play { border: 1px solid var(--hg-line); background: #fff; border-radius: 8px;
          cursor: pointer; font-size: 15px; min-width: 38px; height: 34px; }
.hg-compare-panes { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.hg-compare-panes figure { margin: 0; min-width: 0; }
.hg-compare-panes figcaption { font-size: 12.5px; color: var(--hg-muted); margin-bottom: 4px; }
.hg-compare-panes video, .hg-compare-panes img { width: 100%; max-height: 68vh; object-fit: contain;
          background: #111; border-radius: 8px; display: block; aspect-ratio: var(--hg-compare-ratio, 4 / 3); }
.hg-compare-bar { display: flex; align-items: center; gap: 10px; margin-top: 10px; }
.hg-compare-seek { flex: 1 1 auto; min-width: 0; accent-color: var(--hg-accent); }
.hg-compare-time { color: var(--hg-muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
.hg-compare-note { color: #9a5b00; font-size: 13px; margin-top: 6px; }
.hg-compare-note:empty { display: none; }
@media (max-width: 600px) {
  .hg-compare-box { padding: 10px; }
  .hg-compare-panes { gap: 6px; }
  .hg-app { padding: 12px 10px 32px; }
  .hg-col { min-width: 0 !important; flex: 1 1 100% !important; }
  .hg-header { flex-wrap: wrap; gap: 8px; }
  .hg-app .jupyter-widget-TabPanel-tabBar .lm-TabBar-tab { padding: 0 12px !important; }
  .hg-card { padding: 12px; }
  .hg-queue-row { flex-wrap: wrap; }
  .hg-queue-row > .widget-hbox { margin-left: auto; }
}
#hg-connection { position: fixed; top: 0; left: 0; right: 0; z-index: 1000; display: flex; gap: 12px;
          justify-content: center; align-items: center; padding: 10px 16px; background: #fef3c7;
          color: #78350f; border-bottom: 1px solid #f59e0b; font-size: 14px;
          font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", Roboto, sans-serif; }
#hg-connection button { border: 1px solid #b45309; background: #fff; color: #78350f; border-radius: 8px;
          padding: 4px 14px; cursor: pointer; font-size: 13.5px; }
</style>
"""
