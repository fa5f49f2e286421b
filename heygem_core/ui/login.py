"""The login page a colleague sees without the token: the app's own look and language, saying what the
token is and where to find it (instead of Jupyter's page about `jupyter server list` and passwords).

Only the page is replaced; checking the token and the login cookie stay Jupyter Server's.
"""
from __future__ import annotations

import html
import os

from .i18n import normalise_lang, tr

ENV_LANG = "HEYGEM_LANG"

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
       background: #f6f7fb; color: #1f2937; font: 14px/1.55 -apple-system, "Segoe UI", "PingFang SC",
       "Microsoft YaHei", "Noto Sans CJK SC", Roboto, Helvetica, Arial, sans-serif; }}
.hg-login {{ background: #fff; border: 1px solid #e5e7eb; border-radius: 12px; padding: 28px 30px;
       width: min(420px, calc(100vw - 32px)); box-sizing: border-box; box-shadow: 0 1px 3px rgba(16,24,40,.06); }}
h1 {{ font-size: 21px; font-weight: 650; margin: 0 0 2px; }}
.sub {{ color: #6b7280; margin: 0 0 18px; font-size: 13px; }}
label {{ display: block; font-weight: 600; margin-bottom: 6px; }}
input[type=password] {{ width: 100%; box-sizing: border-box; height: 38px; border: 1px solid #d1d5db;
       border-radius: 8px; padding: 0 10px; font-size: 14px; }}
input[type=password]:focus {{ outline: 2px solid #bfd0fb; border-color: #2563eb; }}
button {{ margin-top: 14px; width: 100%; height: 40px; border: none; border-radius: 8px; background: #2563eb;
       color: #fff; font-size: 15px; font-weight: 600; cursor: pointer; }}
.help {{ color: #6b7280; font-size: 12.5px; margin-top: 16px; }}
.help code {{ background: #f3f4f6; padding: 1px 5px; border-radius: 4px; }}
.error {{ color: #b91c1c; background: #fef2f2; border: 1px solid #fecaca; border-radius: 8px; padding: 6px 10px;
       margin-bottom: 12px; }}
.lang {{ text-align: right; font-size: 12.5px; margin: -12px -10px 6px 0; }}
.lang a {{ color: #6b7280; text-decoration: none; margin-left: 8px; }}
.lang a.on {{ color: #2563eb; font-weight: 600; }}
</style></head>
<body><main class="hg-login">
<div class="lang"><a href="?lang=zh{next_q}" class="{zh_on}">中文</a><a href="?lang=en{next_q}" class="{en_on}">English</a></div>
<h1>{title}</h1><p class="sub">{subtitle}</p>
{error}
<form method="post" action="{action}">{xsrf}
<label for="password">{label}</label>
<input type="password" id="password" name="password" autocomplete="current-password" autofocus>
<button type="submit">{submit}</button>
</form>
<p class="help">{help}</p>
</main></body></html>
"""


def login_page(lang: str, *, action: str, xsrf: str, next_url: str = "", error: bool = False) -> str:
    """The whole login page, in ``lang``."""
    lang = normalise_lang(lang)
    from urllib.parse import quote

    return PAGE.format(
        lang="zh-CN" if lang == "zh" else "en", title=html.escape(tr("title", lang)),
        subtitle=html.escape(tr("login_subtitle", lang)), label=html.escape(tr("login_token", lang)),
        submit=html.escape(tr("login_submit", lang)), help=tr("login_help", lang),
        error=f'<div class="error" role="alert">{html.escape(tr("login_wrong", lang))}</div>' if error else "",
        action=html.escape(action), xsrf=xsrf, zh_on="on" if lang == "zh" else "",
        en_on="on" if lang == "en" else "", next_q=html.escape(f"&next={quote(next_url)}") if next_url else "")


def page_lang(handler) -> str:
    """?lang=… first, then the browser's preferred language, then the server's."""
    asked = handler.get_argument("lang", default="")
    if asked:
        return normalise_lang(asked)
    accept = handler.request.headers.get("Accept-Language", "")
    first = accept.split(",")[0].strip().lower()
    if first.startswith("zh") or first.startswith("en"):
        return normalise_lang(first)
    return normalise_lang(os.environ.get(ENV_LANG))


def login_handler_class():
    """Voilà's login handler with this page in place of Jupyter's."""
    from voila.voila_identity_provider import VoilaLoginHandler

    class HeygemLoginHandler(VoilaLoginHandler):
        def _render(self, message=None):
            from urllib.parse import urlencode

            next_url, lang = self.get_argument("next", ""), page_lang(self)
            query = {"next": next_url, "lang": lang} if next_url else {"lang": lang}
            action = f"{self.request.path}?{urlencode(query)}"    # an error comes back in the same language
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.write(login_page(lang, action=action, xsrf=self.xsrf_form_html(), next_url=next_url,
                                  error=bool(message)))

    return HeygemLoginHandler
