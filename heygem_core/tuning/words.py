"""The tuning notebook's words, in Chinese and English (the options' own labels and help are in ui.i18n, whose
``translator`` gives this table its ``tr``)."""
from __future__ import annotations

from ..ui.i18n import translator

TEXT: dict[str, tuple[str, str]] = {
    "media": ("素材", "Media"),
    "speech": ("语音", "Speech"),
    "speech_tip": ("驱动口型的语音：上传的文件、给定的文件或内置示例。", "The speech that drives the mouth: an upload, a given file or the built-in example."),
    "face": ("人物视频", "Face video"),
    "face_tip": ("要让其开口说话的视频或照片。", "The video or photo whose face is made to speak."),
    "upload": ("上传", "Upload"),
    "upload_tip": ("上传语音、视频或照片（保存在工作区 uploads/ 中）。", "Upload speech, videos or photos (kept in the workspace's uploads/)."),
    "options": ("参数", "Options"),
    "preview": ("预览", "Preview"),
    "seconds": ("预览时长 (秒)", "Length (s)"),
    "seconds_tip": ("预览渲染的时长。", "How much of the result a preview renders."),
    "lively": ("自动选段", "Lively stretch"),
    "lively_tip": ("从语音有响有停的一段开始。", "Start where the speech has both loud and quiet moments."),
    "from": ("起始帧", "From frame"),
    "from_tip": ("预览从完整结果的第几帧开始（上限为还能渲染完整预览的最后一帧）。", "The full result's frame the preview starts at (up to the last one a whole preview fits after)."),
    "auto": ("松开滑块即预览", "Preview on change"),
    "auto_tip": ("参数改变后自动渲染预览。", "Render a preview shortly after an option changes."),
    "render": ("预览", "Preview"),
    "render_tip": ("用当前参数渲染预览（与完整渲染相同的流程）。", "Render a preview with the current options (the full render's pipeline)."),
    "full": ("渲染完整视频", "Render full video"),
    "full_tip": ("用当前参数把完整视频加入工作区的队列（完成后出现在仪表板的历史记录中）。",
                 "Queue the whole video with these options in the workspace (it then shows in the dashboard's History)."),
    "queued": ("已加入队列：任务 {job}；结果将保存在 {folder}", "Queued as job {job}; the result will be in {folder}"),
    "history": ("历史预览", "History"),
    "history_tip": ("再次查看之前的预览及其参数。", "Show an earlier preview again, with its options."),
    "frame": ("帧", "Frame"),
    "frame_tip": ("完整结果中的帧号：下方的频谱和人脸显示这一帧。", "A frame of the full result: the spectrogram and face below show it."),
    "at_frame": ("某一帧的语音与人脸", "Speech and face at one frame"),
    "pair": ("左：模板视频的这一段；右：预览结果。一个播放器同时播放、暂停和跳转两者（截取到人脸）。",
             "Left: the template at these frames; right: the preview. One player plays, pauses and seeks both "
             "(cropped to the face)."),
    "click_hint": ("点击频谱或同步曲线即可跳到那一刻：播放器、帧号和下面的图片一起移动；播放时红线跟随播放位置。",
                   "Click the spectrogram or the sync curve to go to that moment: the player, the frame and the "
                   "pictures move together; while the player plays, a red line follows it."),
    "click_tip": ("点击以跳到这一刻", "Click to go to this moment"),
    "batch": ("发送到批处理", "Send to batch"),
    "batch_note": ("把当前参数保存为你的参数集（下方的名称），并把这段语音、讲稿和勾选的视频作为一个任务加入工作区的队列——"
                   "与仪表板的“批量处理”相同：队列一个一个地处理，进度和结果显示在仪表板的“队列”和“历史记录”中，"
                   "视频保存在 {folder}。该参数集也可在批处理文件中使用（params: 名称）。",
                   "Saves the current options as a parameter set of yours (the name below) and queues this speech, "
                   "its script and the ticked videos as one job in the workspace's queue, as the dashboard's Batch "
                   "tab does: they run one by one, the dashboard's Queue and History show their progress and "
                   "results, and the videos go to {folder}. The set also works in batch files (params: NAME)."),
    "batch_videos": ("视频", "Videos"),
    "batch_videos_tip": ("要说这段语音的人物视频（按住 Ctrl 或 Shift 可多选）。",
                         "The face videos that are to speak this speech (Ctrl or Shift to pick several)."),
    "batch_add": ("添加视频", "Add videos"),
    "batch_add_tip": ("路径或通配符（例如 media/*.mp4），先在当前文件夹找，再在项目中找；按回车添加并勾选。",
                      "A path or a pattern (such as media/*.mp4), looked for here, then in the project; Enter adds "
                      "and ticks them."),
    "added": ("已添加并勾选 {n} 个视频。", "Added and ticked {n} video(s)."),
    "batch_name": ("参数集名称", "As set"),
    "batch_name_tip": ("当前参数以这个名称保存为你的参数集，批处理使用它。",
                       "The current options are saved as your set of this name; the batch uses it."),
    "send": ("发送到批处理", "Send to batch"),
    "send_tip": ("保存参数集，并把勾选的视频加入工作区的队列。", "Save the set and queue the ticked videos in the workspace."),
    "sent": ("已加入队列：任务 {job}，{n} 个视频，参数集“{name}”（{path}）；结果将保存在 {folder}",
             "Queued as job {job}: {n} video(s) with the set '{name}' ({path}); the results will be in {folder}"),
    "sets": ("参数集", "Parameter sets"),
    "name": ("名称", "Name"),
    "name_tip": ("保存或重命名用的名称（字母、数字、_ - .）。", "A name to save or rename to (letters, digits, _ - .)."),
    "save": ("保存", "Save"),
    "save_tip": ("把当前参数保存为用户参数集。", "Save the current options as one of your parameter sets."),
    "replace": ("替换“{name}”？", "Replace '{name}'?"),
    "pick": ("参数集", "Set"),
    "pick_tip": ("内置参数集与用户参数集（不含批处理文件）。", "Shipped and your own parameter sets (batch files are not listed)."),
    "load": ("载入", "Load"),
    "load_tip": ("把所选参数集载入上方的参数。", "Put the chosen set's options into the controls above."),
    "delete": ("删除", "Delete"),
    "delete_tip": ("删除所选的用户参数集（内置参数集不能删除）。", "Delete the chosen set of yours (shipped sets cannot be)."),
    "confirm_delete": ("确认删除“{name}”？", "Delete '{name}'?"),
    "rename": ("重命名", "Rename"),
    "rename_tip": ("把所选的用户参数集改为上方的名称。", "Rename the chosen set of yours to the name above."),
    "rendering": ("正在渲染 …", "Rendering …"),
    "busy": ("正在渲染，请稍候。", "Already rendering; one moment."),
    "stale": ("设置已改变：请按“预览”。", "Settings changed: press Preview."),
    "saved": ("已保存 {path}", "Saved {path}"),
    "loaded": ("已载入 {path}", "Loaded {path}"),
    "deleted": ("已删除 {path}", "Deleted {path}"),
    "renamed": ("已重命名为 {path}", "Renamed to {path}"),
    "uploaded": ("已上传 {names}", "Uploaded {names}"),
    "folder": ("用户参数集保存在 {folder}", "Your sets are saved in {folder}"),
}

tr = translator(TEXT)
