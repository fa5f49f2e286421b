"""The dashboard's words, in Chinese and English. `tr(key, lang, **values)` picks one and fills it in."""
from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

TEXT: dict[str, tuple[str, str]] = {
    # page
    "title": ("HeyGem 数字人工作台", "HeyGem Workbench"),
    "subtitle": ("一段语音，驱动多个视频中的人物开口说话。全部在本机处理，不上传任何文件。",
                 "One speech track makes every face video speak it. Everything stays on this machine."),
    "tab_single": ("单个处理", "Single"),
    "tab_batch": ("批量处理", "Batch"),
    "tab_history": ("历史记录", "History"),
    "tab_queue": ("队列", "Queue"),
    "queue_title": ("等待中的任务", "Jobs waiting"),
    "queue_empty": ("队列是空的：没有正在处理或等待的任务。", "The queue is empty: nothing is running or waiting."),
    "failed_title": ("最近失败的视频", "Recent failures"),
    "n_videos": ("{n} 个视频", "{n} video(s)"),
    "move_up": ("上移", "Move up"),
    "stop_job": ("停止", "Stop"),
    "retry": ("重试", "Try again"),
    "why": ("技术细节", "Technical details"),
    # inputs
    "audio": ("语音", "Speech audio"),
    "video": ("人物视频", "Face video"),
    "videos": ("人物视频（可多个）", "Face videos"),
    "script": ("讲稿（可选）", "Script (optional)"),
    "script_hint": ("粘贴这段语音的文字稿（中文或英文）：口型会更准确。不填则只根据声音判断。",
                    "Paste the words of the speech (English or Chinese): the mouth shapes get sharper. "
                    "Leave empty to go by the sound alone."),
    "upload_audio": ("上传音频", "Upload audio"),
    "upload_video": ("上传视频", "Upload video"),
    "upload_videos": ("上传视频（可多选）", "Upload videos"),
    "pick_previous": ("或选择已上传的：", "or pick an earlier one:"),
    "add_previous": ("勾选已上传的视频（可多选）：", "Tick earlier uploads (several at once):"),
    "search_uploads": ("按文件名搜索 …", "Search by name …"),
    "tick_shown": ("全选", "Tick all shown"),
    "untick_all": ("全不选", "Untick all"),
    "no_uploads_yet": ("还没有已上传的视频。", "No earlier uploads yet."),
    "no_match": ("没有名称匹配的文件。", "No file name matches."),
    "nothing_chosen": ("— 未选择 —", "— none —"),
    "no_videos": ("还没有选择视频：上传，或从已上传的文件中添加。",
                  "No videos yet: upload some, or add previous uploads."),
    "remove": ("移除", "Remove"),
    "limit": ("支持 {exts}；每个文件不超过 {limit}；也可把文件拖到这里",
              "{exts}; up to {limit} per file; or drop files here"),
    "checking": ("正在检查 {name} …", "Checking {name} …"),
    "upload_ok": ("✓ {name}（{size}）已就绪", "✓ {name} ({size}) is ready"),
    "bad_type": ("{name}：不支持的文件类型 {ext}。请使用 {exts}", "{name}: unsupported file type {ext}. Use {exts}"),
    "too_big": ("{name} 大小为 {size}，超过上限 {limit}", "{name} is {size}, over the {limit} limit"),
    "too_much": ("一次选择的文件太多（{n} 个，共 {size}），一次最多发送 {cap}：请分几次上传。",
                 "Too much at once ({n} files, {size}); up to {cap} can be sent together: upload them in smaller groups."),
    "empty_file": ("{name}：文件是空的", "{name}: the file is empty"),
    "unreadable_audio": ("{name}：无法作为语音使用，读不出其中的声音。", "{name}: cannot be used: no speech could be read from it."),
    "unreadable_video": ("{name}：无法作为人物视频使用，读不出其中的画面。", "{name}: cannot be used: no picture could be read from it."),
    "unreadable": ("{name}：无法读取（{reason}）", "{name}: cannot be used ({reason})"),
    # actions
    "generate": ("开始生成", "Generate"),
    "start_batch": ("开始批量生成", "Start batch"),
    "cancel": ("取消任务", "Cancel job"),
    "need_audio": ("请先上传或选择一段语音。", "Upload or pick a speech audio first."),
    "need_video": ("请先上传或选择一个人物视频。", "Upload or pick a face video first."),
    "need_videos": ("请至少选择一个人物视频。", "Choose at least one face video."),
    "busy_checking": ("文件还在检查中，请稍候。", "Files are still being checked; one moment."),
    "queued": ("已加入队列：{n} 个视频。", "Queued: {n} video(s)."),
    "already_queued": ("同样的任务（相同的语音、视频和参数）已在队列中（已完成 {done} / {n}）。再点一次可再排一次。",
                       "The same job (same speech, videos and options) is already queued ({done} of {n} done). "
                       "Click again to queue it once more."),
    "confirm_cancel": ("确认取消剩余 {n} 个？", "Cancel {n} left? Click again"),
    "batch_results": ("本批结果：{ok} / {n} 个完成", "This batch: {ok} of {n} ready"),
    "zip_batch": ("打包下载本批", "ZIP this batch"),
    "again_new_speech": ("换一段语音再做一次", "Again with a new speech track"),
    "again_ready": ("已选好同样的 {n} 个人物视频：请上传或选择新的语音，然后开始。",
                    "The same {n} face video(s) are chosen: upload or pick the new speech, then Start."),
    "bad_option": ("参数有误：{msg}", "Option problem: {msg}"),
    "submit_failed": ("无法加入队列：{msg}", "Could not queue the job: {msg}"),
    # options
    "options": ("参数设置", "Options"),
    "reset": ("恢复默认", "Reset to defaults"),
    "group_engine": ("引擎", "Engine"),
    "group_mouth": ("口型", "Mouth motion"),
    "group_face": ("人脸与融合", "Face and blending"),
    "group_output": ("输出", "Output"),
    "set_pick": ("参数集", "Parameter set"),
    "set_pick_tip": ("内置参数集与您保存的参数集：选择后，下面的参数会换成它的数值。",
                     "The shipped sets and the ones you saved: choosing one puts its values into the options below."),
    "set_own": ("— 自定义参数 —", "— own settings —"),
    "set_shipped": ("{name}（内置）", "{name} (shipped)"),
    "set_loaded": ("已载入参数集“{name}”。", "Loaded the parameter set '{name}'."),
    "set_load_failed": ("无法载入参数集“{name}”：文件已不在或内容有误。",
                        "Could not load the parameter set '{name}': its file is gone or not valid."),
    "set_save_as": ("把当前参数另存为 …", "Save these settings as …"),
    "set_name_tip": ("新参数集的名称：字母、数字、_ - .", "A name for the new set: letters, digits, _ - ."),
    "set_save": ("保存", "Save"),
    "set_save_tip": ("把上面的参数保存为您自己的参数集（保存在本机的用户文件夹）。",
                     "Save the options above as a set of your own (in your folder on this machine)."),
    "set_replace": ("替换“{name}”？", "Replace '{name}'?"),
    "set_exists": ("已有名为“{name}”的参数集：再点一次将替换它。",
                   "A set called '{name}' exists: click again to replace it."),
    "set_saved": ("已保存为参数集“{name}”（{path}）。", "Saved as the parameter set '{name}' ({path})."),
    "set_shipped_name": ("“{name}”是内置参数集，不能覆盖：请换个名称。",
                         "'{name}' is a shipped set and cannot be replaced: choose another name."),
    "set_bad_name": ("“{name}”不能作为名称：请用字母、数字、_ - .（以字母或数字开头）。",
                     "'{name}' cannot be a name: use letters, digits, _ - . (starting with a letter or digit)."),
    "set_save_failed": ("无法保存参数集：{msg}", "Could not save the set: {msg}"),
    # progress
    "progress": ("处理进度", "Progress"),
    "idle": ("当前没有正在处理的任务。", "Nothing is running."),
    "waiting": ("排队中，等待开始 …", "Queued, waiting to start …"),
    "item_of": ("第 {i} / {n} 个", "{i} / {n}"),
    "eta": ("预计剩余 {t}", "about {t} left"),
    "eta_unknown": ("正在估算剩余时间 …", "estimating time left …"),
    "more_queued": ("另有 {n} 个任务在排队", "{n} more job(s) waiting"),
    "job_done": ("完成：{ok} / {n} 个成功", "Finished: {ok} of {n} succeeded"),
    "job_cancelled": ("任务已取消", "Job cancelled"),
    "stage_decode": ("读取音视频", "reading media"),
    "stage_face": ("人脸跟踪", "tracking the face"),
    "stage_synthesis": ("口型合成", "synthesising the mouth"),
    "stage_encode": ("编码输出", "encoding"),
    "stage_score": ("评估口型同步", "scoring lip sync"),
    "status_queued": ("排队中", "queued"),
    "status_running": ("处理中", "running"),
    "status_done": ("完成", "done"),
    "status_failed": ("失败", "failed"),
    "status_cancelled": ("已取消", "cancelled"),
    "status_interrupted": ("已中断", "interrupted"),
    "cluster": ("集群 {address}", "Cluster {address}"),
    "dask_dashboard": ("Dask 仪表板", "Dask dashboard"),
    "runs_on": ("{name}：{host}", "{name}: {host}"),
    "result": ("生成结果", "Result"),
    "download": ("下载", "Download"),
    # history
    "history_empty": ("还没有生成结果。在“单个处理”或“批量处理”中生成后，结果会出现在这里。",
                      "No results yet. What you generate under Single or Batch appears here."),
    "select_all": ("全选", "Select all"),
    "select_none": ("取消选择", "Select none"),
    "zip_selected": ("打包下载所选", "Download selected as ZIP"),
    "delete_selected": ("删除所选", "Delete selected"),
    "confirm_delete": ("确认删除 {n} 项？", "Delete {n}? Click again"),
    "delete": ("删除", "Delete"),
    "confirm": ("确认？", "Sure?"),
    "selected_n": ("已选 {n} / {total}", "{n} of {total} selected"),
    "select_first": ("请先选择要打包的结果。", "Select results first."),
    "zip_making": ("正在打包 {n} 个视频 …", "Packing {n} video(s) …"),
    "zip_ready": ("⬇ 下载 ZIP（{n} 个视频，{size}）", "⬇ Download ZIP ({n} videos, {size})"),
    "zip_failed": ("打包失败：{msg}", "Could not make the ZIP: {msg}"),
    "deleted": ("已删除 {n} 项。", "Deleted {n}."),
    "score": ("口型同步 {r}", "sync {r}"),
    "no_score": ("无同步评分", "no sync score"),
    "lips_closed": ("双唇闭合 {pct}%", "p/b/m closed {pct}%"),
    "lips_help": ("发 b、p、m 时双唇闭合：{pct}%（说话中的随机时刻：{chance}%）", "Lips closed on {pct}% of p, b, m (at "
                                                                      "random moments in speech: {chance}%)"),
    "aperture_help": ("张口元音比 i、u、f 等张开 {ratio} 倍", "Open vowels open {ratio}× as wide as i, u, f, v, w"),
    "score_help": ("口型同步：嘴的开合与语音的吻合程度（1 为完全一致，低于 0.25 为较弱）",
                   "Lip sync: how closely the mouth follows the speech (1 = perfect, under 0.25 = weak)"),
    "compare": ("前后对比", "Before / after"),
    "compare_tip": ("原视频与生成结果并排同步播放", "The template and the result side by side, played in step"),
    "compare_before": ("原视频（模板）", "Before: the template"),
    "compare_after": ("生成结果", "After: the result"),
    "compare_close": ("关闭", "Close"),
    "compare_play": ("播放", "Play"),
    "compare_pause": ("暂停", "Pause"),
    "compare_unplayable": ("此浏览器无法播放原视频的格式，仅显示其画面。",
                           "This browser cannot play the template's format; a still of it is shown."),
    "connection_lost": ("与服务器的连接已断开，正在等待重新连接 …",
                        "The connection to the server was lost; waiting for it to come back …"),
    "connection_reload": ("重新载入", "Reload"),
    "connection_back": ("服务器已恢复，正在重新载入 …", "The server is back; reloading …"),
    "login_subtitle": ("这台电脑上的数字人工作台需要访问令牌。", "This workbench asks for its access token."),
    "login_token": ("访问令牌", "Access token"),
    "login_submit": ("进入", "Open the workbench"),
    "login_wrong": ("令牌不对，请再检查一遍。", "That token is not right; please check it."),
    "login_help": ("令牌是启动本应用的人收到的地址中 <code>?token=</code> 后面的部分"
                   "（运行 <code>heygem serve</code> 的窗口里会显示）。请向他索取完整地址，或只要令牌。",
                   "The token is the part after <code>?token=</code> in the address shown where the app was "
                   "started (the window running <code>heygem serve</code>). Ask the person who runs it for the "
                   "whole address, or just the token."),
    "error_generic": ("出了点问题：{msg}", "Something went wrong: {msg}"),
}

# English option labels where the field name does not read well; help text comes from the metadata.
OPTION_EN: dict[str, str] = {
    "attack_ms": "Attack (ms)", "release_ms": "Release (ms)", "silence_db": "Silence (dB)",
    "crf": "Quality (CRF)", "image_fps": "Photo frame rate", "audio_bitrate": "Audio bit rate",
    "preset": "Encoder preset", "color_match": "Colour match", "loop_mode": "Short video",
    "pad_top": "Pad top", "pad_bottom": "Pad bottom", "pad_left": "Pad left", "pad_right": "Pad right",
}

# Option labels and help in Chinese; English help comes from the options' own metadata.
OPTION_ZH: dict[str, tuple[str, str]] = {
    "engine": ("合成引擎", "口型合成引擎。"),
    "checkpoint": ("Wav2Lip 权重", "Wav2Lip 权重：文件路径，或 `heygem weights list` 中的名称。"),
    "device": ("运行设备", "Wav2Lip 在哪里运行（auto：有 CUDA 时用 GPU）。"),
    "batch_size": ("批大小", "Wav2Lip 每批处理的帧数。"),
    "mouth_gain": ("张嘴幅度", "同样响度下嘴张开的程度。"),
    "max_opening": ("最大张口", "内唇最大张开程度（相对嘴宽）。"),
    "attack_ms": ("张嘴速度 (ms)", "开始说话时嘴张开的快慢（毫秒）。"),
    "release_ms": ("闭嘴速度 (ms)", "停止说话后嘴合上的快慢（毫秒）。"),
    "silence_db": ("静音阈值 (dB)", "低于语音峰值多少分贝时视为静音、闭嘴。"),
    "rounding": ("圆唇程度", "元音使嘴唇变圆或展开的程度（0 为不变）。"),
    "jaw_follow": ("下巴跟随", "下巴随张嘴移动的程度。"),
    "teeth": ("牙齿可见度", "张嘴时上排牙齿的可见程度（0 为不显示）。"),
    "face_confidence": ("人脸置信度", "人脸检测的最低置信度。"),
    "track_smoothing": ("跟踪平滑", "关键点随时间的平滑程度（0 为不平滑）。"),
    "pad_top": ("上边距", "Wav2Lip 人脸框上方留白（像素）。"),
    "pad_bottom": ("下边距", "Wav2Lip 人脸框下方留白，需包含下巴（像素）。"),
    "pad_left": ("左边距", "Wav2Lip 人脸框左侧留白（像素）。"),
    "pad_right": ("右边距", "Wav2Lip 人脸框右侧留白（像素）。"),
    "mask_feather": ("边缘柔化", "嘴部遮罩边缘的柔和程度（相对脸宽）。"),
    "color_match": ("颜色匹配", "让合成区域的颜色与画面一致。"),
    "loop_mode": ("视频较短时", "视频比语音短时：来回播放（pingpong）或循环（loop）。"),
    "image_fps": ("图片帧率", "输入为静态图片时输出视频的帧率。"),
    "crf": ("画质 (CRF)", "H.264 画质（数值越小画质越好、文件越大）。"),
    "preset": ("编码速度", "H.264 编码速度预设。"),
    "audio_bitrate": ("音频码率", "AAC 音频码率（比特/秒）。"),
}


# Choices of option menus, as people read them; the technical name stays in brackets where it is what
# experts know (the H.264 presets).
OPTION_VALUES: dict[tuple[str, str], tuple[str, str]] = {
    ("engine", "procedural"): ("内置（无需模型文件）", "Built-in (no model file needed)"),
    ("engine", "wav2lip"): ("Wav2Lip（需要权重文件）", "Wav2Lip (needs its weights file)"),
    ("device", "auto"): ("自动", "Automatic"),
    ("device", "cpu"): ("CPU", "CPU"),
    ("device", "cuda"): ("GPU（CUDA）", "GPU (CUDA)"),
    ("loop_mode", "pingpong"): ("来回播放", "Back and forth"),
    ("loop_mode", "loop"): ("从头循环", "Loop from the start"),
    ("preset", "ultrafast"): ("最快，文件最大（ultrafast）", "Fastest, largest file (ultrafast)"),
    ("preset", "superfast"): ("很快（superfast）", "Very fast (superfast)"),
    ("preset", "veryfast"): ("快（veryfast）", "Fast (veryfast)"),
    ("preset", "faster"): ("较快（faster）", "Quicker (faster)"),
    ("preset", "fast"): ("适中偏快（fast）", "Balanced, quicker (fast)"),
    ("preset", "medium"): ("适中（medium）", "Balanced (medium)"),
    ("preset", "slow"): ("慢，文件最小（slow）", "Slow, smallest file (slow)"),
}


def option_value_label(name: str, value, lang: str) -> str:
    """A menu choice of option ``name`` for people; a choice this table does not know is shown as it is."""
    pair = OPTION_VALUES.get((name, str(value)))
    return (pair[0] if lang == "zh" else pair[1]) if pair else str(value)


def translator(table: dict[str, tuple[str, str]]):
    """The ``tr(key, lang, **values)`` of a word table (``key`` → ``(zh, en)``): the text for ``key`` in
    ``lang`` (``zh`` or ``en``), with ``values`` filled in. The dashboard's words are ``TEXT`` here; the
    tuning notebook's (``tuning.words``) are a table of their own, looked up by this same function."""
    def tr(key: str, lang: str, **values) -> str:
        zh, en = table[key]
        text = zh if lang == "zh" else en
        return text.format(**values) if values else text

    return tr


tr = translator(TEXT)


def stage_label(stage: str, lang: str) -> str:
    """A pipeline stage's name for people; a stage this page does not know is shown as it is."""
    key = f"stage_{stage}"
    return tr(key, lang) if key in TEXT else stage


def option_label(name: str, lang: str) -> str:
    if lang == "zh" and name in OPTION_ZH:
        return OPTION_ZH[name][0]
    return OPTION_EN.get(name) or name.replace("_", " ").capitalize()


def option_help(name: str, help_en: str, lang: str) -> str:
    if lang == "zh" and name in OPTION_ZH:
        return OPTION_ZH[name][1]
    return help_en


def normalise_lang(lang: str | None) -> str:
    lang = (lang or "").lower()
    if lang.startswith("zh") or lang in ("cn", "chinese"):
        return "zh"
    if lang.startswith("en"):
        return "en"
    return DEFAULT_LANG


def format_size(n: float) -> str:
    """Bytes as a short human size: 930 B, 12.5 KB, 3.1 MB, 1.2 GB (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" or n == int(n) else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def format_duration(seconds: float | None) -> str:
    """Seconds as m:ss (or h:mm:ss); an em dash when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
