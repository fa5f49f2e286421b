"""Where the shown job's items run, when the workspace's queue runs on a Dask cluster: the machine of each
item that has one, and a link to the Dask dashboard (the cluster's own view of workers, memory and tasks)."""
from __future__ import annotations

import html

from .i18n import tr


def cluster_html(job, cluster: dict | None, lang: str) -> str:
    """HTML for ``job`` (a ``JobRecord`` or None) and ``cluster`` (``dask_exec.read_cluster_file``); empty
    when there is nothing to say (a local worker, no cluster)."""
    hosts = [(i, i.host) for i in (job.items if job else []) if i.host and i.status in ("running", "done")]
    if not cluster and not hosts:
        return ""
    parts = []
    if cluster:
        head = html.escape(tr("cluster", lang, address=cluster.get("scheduler", "")))
        link = cluster.get("dashboard")
        if link:
            head += (f' · <a class="hg-dask-link" href="{html.escape(link)}" target="_blank" rel="noopener">'
                     f'{html.escape(tr("dask_dashboard", lang))} ↗</a>')
        parts.append(f"<div>{head}</div>")
    for item, host in hosts:
        icon = "◐" if item.status == "running" else "✓"
        text = tr("runs_on", lang, name=f"{item.index + 1}. {item.video_name}", host=host)
        parts.append(f'<div class="hg-host">{icon} {html.escape(text)}</div>')
    return f'<div class="hg-cluster hg-note">{"".join(parts)}</div>'
