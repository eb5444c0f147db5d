"""General word lists for branch IT chat: noise to drop, filler words, variant spellings, synonyms.

Written for the domain (bank / telecom / retail / logistics / clinic front offices), not taken
from any evaluation set. Extend them freely; keep entries general.
"""

from __future__ import annotations

# Phrases that carry no content: greetings, politeness, urgency, voice-input tics.
CHAT_NOISE: tuple[str, ...] = (
    "你好",
    "您好",
    "大家好",
    "早上好",
    "上午好",
    "中午好",
    "下午好",
    "晚上好",
    "各位老师",
    "各位领导",
    "各位同事",
    "老师们",
    "同事们",
    "在吗",
    "在不在",
    "有人吗",
    "有没有人",
    "请问",
    "麻烦",
    "麻烦一下",
    "帮忙",
    "帮帮忙",
    "帮我看看",
    "帮我看下",
    "谢谢",
    "多谢",
    "感谢",
    "辛苦了",
    "急急急",
    "急死了",
    "急死",
    "着急",
    "很急",
    "快点",
    "赶紧",
    "尽快",
    "马上",
    "那个",
    "就是说",
    "然后",
    "嗯嗯",
    "呃",
    "哈喽",
    "hello",
    "hi",
    "thanks",
    "thank you",
    "pls",
    "please",
    "asap",
)

# Words that segmentation leaves but that say nothing about the fault.
FILLER_WORDS: frozenset[str] = frozenset(
    """
    了 的 地 得 吗 吧 呢 啊 呀 哦 喔 嘛 啦 哈 么 我 我们 你 你们 他 她 它 他们 咱 咱们 这 那 这个 那个 这边 那边 这里 那里 就 还 又 也 都 很 太 挺 真 再 才 刚 刚刚 一直 总是
    老是 经常 有时 有点 有些 一下 一个 一台 个 台 是 在 有 没 被 把 给 让 和 跟 与 或 或者 但 但是 可是 而且 所以 因为 如果 怎么 怎么办 咋 咋办 咋整 怎么回事 什么 啥 为什么 为啥 怎样
    如何 要 想 能 会 可以 应该 需要 得 看 看看 说 弄 搞 处理 解决 问题 情况 一样 今天 昨天 早上 上午 下午 晚上 刚才 现在 突然 又是 还是 已经 了吧 呢吧 一 下 上 来 去 出 过 着 点 些
    嘛呢 吗呢 行 好 好的 ok 那么 这么 这样 那样 不知道 知道 觉得 感觉 好像 似乎 反正 其实 大家 同事 客户 领导 网点 我这 我这边 我们这 我们这边
    """.split()  # noqa: SIM905
)

# Whole messages made only of these are courtesy or acknowledgement, never a fault report.
COURTESY: tuple[str, ...] = (
    "谢谢",
    "多谢",
    "感谢",
    "谢了",
    "辛苦了",
    "辛苦",
    "好的",
    "好滴",
    "收到",
    "收到了",
    "知道了",
    "明白了",
    "明白",
    "了解",
    "已经好了",
    "好了",
    "可以了",
    "没事了",
    "没问题",
    "不用了",
    "ok",
    "okay",
    "嗯",
    "嗯嗯",
    "哦",
    "哦哦",
    "你好",
    "您好",
    "大家好",
    "早上好",
    "早安",
    "上午好",
    "中午好",
    "下午好",
    "晚上好",
    "各位",
    "各位老师",
    "各位领导",
    "各位同事",
    "老师们",
    "同事们",
    "在吗",
    "在不在",
    "有人吗",
    "thanks",
    "thank you",
    "thx",
    "hi",
    "hello",
    "good morning",
    "got it",
    "noted",
    "bye",
    "再见",
    "拜拜",
    "点赞",
    "棒",
    "太好了",
    "好",
    "行",
)

# How people ask for something that is not a fault: a cost, a rule, a procedure, whom to call, when, or a
# complaint about the service. An article that says none of it is probably not what such a message asks for.
REQUEST_PHRASES: tuple[str, ...] = (
    # costs and rules
    "多少钱", "收费", "费用", "价格", "怎么收", "怎么算", "怎么赔", "赔多少", "赔偿", "报销", "比例", "优惠", "划算",
    "规则", "政策", "规定", "口径", "标准是", "有标准吗", "有什么要求", "要什么材料", "什么材料", "哪些材料", "需要什么",
    "准备什么", "准备哪些", "要带什么", "最多能", "最多可以", "上限是", "有没有上限", "限额是", "有没有限制",
    # procedures and supplies
    "怎么申请", "如何申请", "在哪申请", "去哪申请", "申请流程", "怎么办理", "如何办理", "能办吗", "能不能办", "可以办",
    "补办", "怎么领", "去哪领", "在哪领", "哪里领", "领用", "怎么预约", "如何预约", "在哪预约", "怎么报名", "怎么兑换",
    # whom, when, where
    "找谁", "谁管", "谁负责", "谁批", "谁审批", "谁有权限", "哪个部门", "联系谁", "电话多少", "电话是多少", "什么时候", "几点",
    "几号", "哪天", "多久能", "排班",
    "在哪看",
    # complaints about the service
    "投诉", "没人理", "没人管", "态度", "太慢了吧", "催一下",
)

# How people say that something is wrong, whatever the device or system: what a fault report almost always holds.
# A message with none of them that asks a question (QUESTION_WORDS) is more likely after a rule, a cost or a way of
# doing something than a fix. "不" and "没" count unless they are part of NOT_FAULT (a question, "I don't know").
FAULT_WORDS: tuple[str, ...] = (
    "不", "没", "无法", "无响应", "无信号", "无网络", "未", "失败", "错误", "出错", "报错", "异常", "故障", "坏", "损坏",
    "卡住", "卡顿", "卡死", "卡了", "很卡", "太卡", "好卡", "一卡一卡", "卡在", "卡纸", "卡钞", "卡药", "慢", "黑屏", "白屏",
    "蓝屏", "花屏", "死机", "闪退", "重启", "断", "掉线", "掉了", "丢", "漏", "乱码", "报警", "警告", "提示", "弹窗",
    "闪", "模糊", "糊", "发淡", "偏", "歪", "跑偏", "错位", "出界", "响个", "一直响", "一直叫", "杂音", "电流声", "烫",
    "冒烟", "焦味", "鼓包", "裂", "碎", "停了", "崩", "挂了", "空白", "全黑", "黑的", "白的", "变灰", "发黄", "暗",
    "离线", "脱机", "锁", "过期", "超时", "转圈", "对不上", "差了", "多扣", "重复", "乱", "跳", "吞", "满了", "用完",
    "弹框", "退回", "被禁用", "非法", "无效",
    # English (from a word's start; a trailing space: the whole word)
    "not ", "no ", "can t ", "cannot ", "won t ", "doesn t ", "didn t ", "isn t ", "unable", "fail", "error",
    "broken", "down ", "slow", "stuck", "jam", "crash", "freez", "frozen", "offline", "blank", "dead ", "wrong",
    "missing", "invalid", "denied", "expired", "locked", "timeout", "timed out", "keeps",
)
NOT_FAULT: tuple[str, ...] = (
    "能不能", "是不是", "要不要", "可不可以", "会不会", "行不行", "对不对", "好不好", "有没有", "用不用", "需不需要",
    "不知道", "不清楚", "不太懂", "不懂", "不好意思", "不用", "不需要", "不想", "不愿意", "不同", "不错", "没人",
    "没问题", "提示音",
)
QUESTION_WORDS: tuple[str, ...] = (
    "怎么", "怎样", "如何", "谁", "多少", "哪", "吗", "是否", "能否", "可否", "什么", "几", "啥", "咋", "呢",
    "能不能", "可不可以", "要不要", "有没有", "是不是", "会不会",
    "how ", "what ", "who ", "when ", "where ", "which ", "why ", "is there ", "can i ", "do i ", "should i ",
)

# English words that say nothing about the fault.
ENGLISH_FILLER: frozenset[str] = frozenset(
    """
    a an the and or but if then so to of in on at by for from with without after before about into over under is
    are was were be been being am do does did done doing have has had can could will would should shall may might
    must not no yes i me my we our us you your he she it its they them their this that these those there here what
    which who whom whose when where why how any some all every each other another again also just only very too
    still even up down out off get gets got keep keeps please pls help anyone someone something anything thing
    things way ways now today yesterday morning afternoon tonight always never sometimes one two three new old our
    branch counter customer customers staff won't can't doesn't isn't don't didn't cannot
    """.split()  # noqa: SIM905
)

# Variant and homophone spellings people type for the same word.
VARIANTS: dict[str, str] = {
    "登陆": "登录",
    "帐号": "账号",
    "帐户": "账户",
    "密吗": "密码",
    "蜜码": "密码",
    "打引": "打印",
    "wi-fi": "wifi",
    "wlan": "wifi",
    "u-key": "ukey",
    "u key": "ukey",
    "u盾": "ukey",
    "优盾": "ukey",
    "e-mail": "邮箱",
    "email": "邮箱",
    "邮件箱": "邮箱",
    "电邮": "邮箱",
    "ie浏览器": "ie",
    "二代证": "身份证",
    "闪退": "崩溃",
    "死机了": "死机",
    "卡死": "死机",
    "黑屏了": "黑屏",
    "蓝屏了": "蓝屏",
    "掉线了": "掉线",
}

_GROUPS: dict[str, tuple[str, ...]] = {
    "network": (
        "network",
        "internet",
        "offline",
        "网络",
        "网",
        "网线",
        "断网",
        "没网",
        "上不了网",
        "上不去网",
        "连不上网",
        "网不通",
        "网断了",
    ),
    "wifi": ("wireless", "wifi", "无线", "无线网", "无线网络", "热点"),
    "vpn": ("remote access", "vpn", "虚拟专网", "远程接入"),
    "connect_fail": (
        "can't connect",
        "cannot connect",
        "connection failed",
        "not connecting",
        "连不上",
        "连接不上",
        "连接失败",
        "连不了",
        "连不通",
        "接不通",
        "无法连接",
        "上不去",
        "登不上",
    ),
    "slow": ("slow", "sluggish", "lag", "laggy", "慢", "很慢", "卡顿", "好慢", "特别慢", "转圈", "加载慢"),
    "login": ("login", "log in", "logon", "sign in", "登录", "登入", "登不进", "进不去", "登不上去", "签到"),
    "password": ("password", "passwords", "pin", "密码", "口令", "pin码"),
    "account": ("account", "username", "user id", "账号", "账户", "用户名", "工号", "柜员号"),
    "locked": ("locked", "lock", "unlock", "lockout", "锁定", "锁了", "被锁", "冻结", "锁住"),
    "expired": ("expired", "expire", "expires", "expiry", "过期", "到期", "失效"),
    "printer": ("printer", "print", "printing", "printout", "printouts", "打印机", "打印", "打不出", "打出来", "出纸"),
    "jam": ("jam", "jammed", "paper jam", "卡纸", "夹纸", "塞纸", "纸卡住", "卡住纸"),
    "pos": ("card terminal", "payment terminal", "pos", "pos机", "刷卡机", "收款机", "收单"),
    "card_reader": ("card reader", "reader", "id card", "读卡器", "读卡", "阅读器"),
    "scanner": ("scanner", "barcode", "scan", "扫码枪", "扫描枪", "扫码", "扫码器", "条码枪"),
    "ukey": ("usb key", "certificate", "cert", "token", "ukey", "证书", "数字证书", "usbkey", "key盘"),
    "mail": ("mail", "mailbox", "inbox", "邮箱", "邮件", "outlook", "foxmail"),
    "screen": ("screen", "monitor", "display", "显示器", "屏幕", "屏", "显示屏"),
    "black": ("no signal", "blank", "黑屏", "不亮", "无信号", "没信号", "没画面", "没有画面"),
    "computer": ("computer", "laptop", "desktop", "电脑", "主机", "pc", "台式机", "笔记本", "终端"),
    "crash": (
        "crash",
        "crashed",
        "frozen",
        "freeze",
        "not responding",
        "死机",
        "崩溃",
        "没反应",
        "无响应",
        "不动了",
        "动不了",
    ),
    "browser": ("browser", "webpage", "internet explorer", "浏览器", "ie", "edge", "chrome", "网页", "页面"),
    "plugin": ("plugin", "plug-in", "add-on", "控件", "插件", "activex"),
    "sound": ("sound", "audio", "mute", "hear", "声音", "没声", "听不到", "没有声音", "麦克风", "话筒"),
    "camera": ("camera", "webcam", "video", "摄像头", "镜头", "画面"),
    "phone": ("phone", "dial tone", "telephone", "电话", "座机", "ip电话", "话机"),
    "invoice": ("invoice", "tax", "fapiao", "发票", "开票", "税控"),
    "antivirus": ("virus", "antivirus", "malware", "病毒", "杀毒", "木马", "360", "防病毒"),
    "permission": ("access", "permission", "permissions", "request access", "权限", "开通", "授权"),
    "install": ("install", "installation", "software", "安装", "装软件", "装个"),
    "queue": ("queue", "ticket number", "叫号", "排队", "取号", "号票"),
    "keyboard": ("keyboard", "mouse", "键盘", "鼠标"),
    "time": ("clock", "time", "时间", "时钟", "日期"),
    "share": ("shared folder", "share", "共享", "共享文件夹", "共享盘"),
    "export": ("export", "导出", "下载报表"),
    "garbled": ("garbled", "gibberish", "乱码", "乱字", "方块字"),
    "input_method": ("input method", "ime", "chinese input", "输入法", "打字", "拼音"),
    "cash": ("cash", "banknote", "counting machine", "点钞机", "验钞机", "现金", "钞"),
    "signature": ("signature pad", "signature", "签名板", "手写板", "签字板"),
    "streak": ("streak", "streaks", "黑条", "黑线", "条纹"),
    "faint": ("faint", "blurry", "blurred", "模糊", "发淡", "看不清", "不清楚"),
    "not_detected": (
        "not detected",
        "not recognized",
        "not recognised",
        "未检测到",
        "识别不了",
        "不识别",
        "无法识别",
        "认不到",
        "检测不到",
    ),
    "medical_insurance": ("medical insurance", "insurance", "医保", "社保", "医疗保险"),
}

# phrase → concept group, for query expansion at both index and query time.
SYNONYMS: dict[str, str] = {phrase: group for group, phrases in _GROUPS.items() for phrase in phrases}
