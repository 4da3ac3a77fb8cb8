"""The demo city's data: its department tree, services in zh-CN and en with what citizens
write about them, places, names, pages and the questions some services ask."""

from __future__ import annotations

from hotline.core.storage.enums import CaseKind, LimitUnit

# code, parent code, Chinese name, English name
DEPARTMENTS: tuple[tuple[str, str | None, str, str], ...] = (
    ("city", None, "市人民政府", "City Government"),
    ("urban", "city", "市城市管理局", "Urban Management Bureau"),
    ("housing", "city", "市住房和城乡建设局", "Housing and Construction Bureau"),
    ("transport", "city", "市交通运输局", "Transport Bureau"),
    ("ecology", "city", "市生态环境局", "Ecology and Environment Bureau"),
    ("market", "city", "市市场监督管理局", "Market Regulation Bureau"),
    ("hrss", "city", "市人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("education", "city", "市教育局", "Education Bureau"),
    ("health", "city", "市卫生健康委员会", "Health Commission"),
    ("water", "city", "市水务局", "Water Affairs Bureau"),
    ("police", "city", "市公安局", "Public Security Bureau"),
    ("east", "city", "东城区人民政府", "Dongcheng District Government"),
    ("east-urban", "east", "东城区城市管理执法局", "Dongcheng Urban Management"),
    ("east-hepingli", "east", "和平里街道办事处", "Hepingli Subdistrict Office"),
    ("west", "city", "西城区人民政府", "Xicheng District Government"),
    ("west-urban", "west", "西城区城市管理执法局", "Xicheng Urban Management"),
)

# code, zh, en, department, reply limit, unit, a few things citizens write (zh), (en)
SERVICES: tuple[tuple[str, str, str, str, int, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "road",
        "道路破损",
        "Road damage and potholes",
        "transport",
        5,
        LimitUnit.WORKING_DAYS,
        ("{place}路面塌陷出现大坑，晚上骑车很危险。", "{place}人行道砖松动好几块，老人差点摔倒。"),
        ("There is a deep pothole on {place_en}; cyclists swerve into traffic.",),
    ),
    (
        "noise",
        "噪声扰民",
        "Noise",
        "ecology",
        16,
        LimitUnit.WORKING_HOURS,
        (
            "{place}工地每天夜里十一点以后还在施工，噪音很大。",
            "楼下{place}的烧烤店音响声音太大，影响休息。",
        ),
        ("A building site near {place_en} works past midnight every night.",),
    ),
    (
        "parking",
        "违章停车",
        "Illegal parking",
        "police",
        3,
        LimitUnit.WORKING_DAYS,
        ("{place}消防通道长期被私家车占用。",),
        ("Cars block the fire lane at {place_en} every evening.",),
    ),
    (
        "sanitation",
        "环境卫生",
        "Rubbish and sanitation",
        "urban",
        3,
        LimitUnit.WORKING_DAYS,
        ("{place}垃圾桶三天没人清运，臭味很重。", "{place}有人乱倒建筑垃圾。"),
        ("Rubbish bins at {place_en} have not been emptied for three days.",),
    ),
    (
        "water",
        "供水问题",
        "Water supply",
        "water",
        2,
        LimitUnit.WORKING_DAYS,
        ("{place}小区从早上开始停水，没有任何通知。", "{place}自来水发黄，有异味。"),
        ("No water at {place_en} since this morning, and no notice was given.",),
    ),
    (
        "heating",
        "供暖问题",
        "Heating",
        "housing",
        3,
        LimitUnit.WORKING_DAYS,
        ("{place}家里暖气不热，室温只有十五度。",),
        ("The radiators at {place_en} are cold; it is 15 degrees indoors.",),
    ),
    (
        "wages",
        "拖欠工资",
        "Unpaid wages",
        "hrss",
        10,
        LimitUnit.WORKING_DAYS,
        ("我在{place}附近的工地干活，老板拖欠三个月工资不给。",),
        ("My employer near {place_en} has not paid wages for three months.",),
    ),
    (
        "food",
        "食品安全",
        "Food safety",
        "market",
        5,
        LimitUnit.WORKING_DAYS,
        ("在{place}一家超市买到过期的牛奶。", "{place}的餐馆后厨卫生很差。"),
        ("A supermarket on {place_en} sells milk past its date.",),
    ),
    (
        "consumer",
        "消费投诉",
        "Consumer complaints",
        "market",
        7,
        LimitUnit.WORKING_DAYS,
        ("{place}的健身房突然关门，预付卡的钱退不回来。",),
        ("A gym on {place_en} closed overnight and kept our prepaid fees.",),
    ),
    (
        "bus",
        "公共交通",
        "Public transport",
        "transport",
        5,
        LimitUnit.WORKING_DAYS,
        ("{place}的公交站牌信息错误，末班车时间不对。", "希望在{place}增开一条公交线路。"),
        ("The bus stop sign at {place_en} shows the wrong last-bus time.",),
    ),
    (
        "school",
        "入学咨询",
        "School enrolment",
        "education",
        5,
        LimitUnit.WORKING_DAYS,
        ("请问孩子在{place}片区上小学需要准备哪些材料？",),
        ("Which documents do we need to enrol our child in the {place_en} school district?",),
    ),
    (
        "medical",
        "医疗服务",
        "Medical services",
        "health",
        5,
        LimitUnit.WORKING_DAYS,
        ("{place}社区卫生服务中心周末不开门，看病不方便。",),
        ("The community clinic at {place_en} is closed at weekends.",),
    ),
    (
        "lights",
        "路灯故障",
        "Street lights",
        "urban",
        3,
        LimitUnit.WORKING_DAYS,
        ("{place}一排路灯都不亮了，晚上很黑。",),
        ("A whole row of street lights on {place_en} is out.",),
    ),
)

PLACES = (
    ("和平里东街12号", "12 Hepingli East Street", 39.9612, 116.4170),
    ("人民路与解放路交叉口", "the corner of Renmin Road and Jiefang Road", 39.9087, 116.3975),
    ("朝阳门南小街", "Chaoyangmen South Alley", 39.9241, 116.4278),
    ("西直门外大街88号", "88 Xizhimen Outer Street", 39.9405, 116.3553),
    ("幸福家园小区3号楼", "Building 3, Xingfu Jiayuan", 39.8986, 116.4452),
    ("建国路地铁站B口", "exit B of Jianguo Road station", 39.9075, 116.4610),
    ("光明街道菜市场", "the Guangming Street market", 39.8850, 116.3820),
)

# district routing rules: the words in a citizen's place, the department, the one service they
# route (the city's sanitation goes to the street office or district); the reports break cases
# down by these districts
DISTRICTS = (
    ("和平里", "east-hepingli", "sanitation"),
    ("朝阳门", "east-urban", "sanitation"),
    ("西直门", "west-urban", "sanitation"),
)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟")
CHANNELS = ("web", "phone", "phone", "voicemail", "sms", "email", "fax", "telegram", "webchat")
# what citizens write about here is a problem, so no praise: a complaint, a report of it, a
# request for help, a question or a suggestion about it
KINDS = (CaseKind.COMPLAINT,) * 5 + (
    CaseKind.REPORT,
    CaseKind.REPORT,
    CaseKind.REQUEST,
    CaseKind.CONSULTATION,
    CaseKind.SUGGESTION,
)


# slug, kind, zh title, en title, zh body, en body
PAGES: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "heating-season",
        "announcement",
        "关于2026—2027年度供暖季的通知",
        "The 2026-2027 heating season",
        "本市供暖季自11月15日起至次年3月15日止。\n\n室温低于18℃时，可拨打热线或在本网站提交诉求。",
        "The heating season runs from 15 November to 15 March.\n\nIf your home is below 18 °C, call the hotline or write to us here.",
    ),
    (
        "hotline-hours",
        "announcement",
        "热线服务时间",
        "When the hotline answers",
        "热线电话24小时有人接听；网站和短信全天受理，工作日答复。",
        "The phone line is staffed around the clock; the website and SMS take cases at any time and are answered on working days.",
    ),
    (
        "wage-arrears-guide",
        "guide",
        "被拖欠工资怎么办",
        "Unpaid wages: what to do",
        "请准备劳动合同、考勤记录和工资条等材料。\n\n通过热线提交时，请写明用人单位名称和拖欠时间。",
        "Keep your contract, attendance records and pay slips.\n\nWhen you write to us, name the employer and the months unpaid.",
    ),
    (
        "school-enrolment-guide",
        "guide",
        "义务教育入学指南",
        "School enrolment guide",
        "适龄儿童入学需提供户口簿、房产证明或居住证。\n\n具体片区划分以教育局公布为准。",
        "Children of school age need the household register and proof of address.\n\nCatchment areas are published by the Education Bureau.",
    ),
)

# Extra questions some services ask (the same definitions Open311 serves).
ATTRIBUTES: dict[str, list[dict[str, object]]] = {
    "noise": [
        {
            "code": "when",
            "datatype": "singlevaluelist",
            "required": True,
            "description_zh": "噪声什么时候出现？",
            "description_en": "When is the noise?",
            "values": [
                {
                    "key": "night",
                    "name_zh": "夜间（22点至6点）",
                    "name_en": "At night (22:00-06:00)",
                },
                {"key": "day", "name_zh": "白天", "name_en": "In the day"},
            ],
        },
        {
            "code": "source",
            "datatype": "multivaluelist",
            "required": False,
            "description_zh": "噪声来源",
            "description_en": "Where does it come from?",
            "values": [
                {"key": "building", "name_zh": "建筑工地", "name_en": "A building site"},
                {"key": "shop", "name_zh": "商铺", "name_en": "A shop"},
                {"key": "neighbour", "name_zh": "邻居", "name_en": "A neighbour"},
            ],
        },
    ],
    "road": [
        {
            "code": "size",
            "datatype": "singlevaluelist",
            "required": False,
            "description_zh": "破损有多大？",
            "description_en": "How big is the damage?",
            "values": [
                {"key": "small", "name_zh": "小于一米", "name_en": "Under a metre"},
                {"key": "large", "name_zh": "一米以上", "name_en": "A metre or more"},
            ],
        },
    ],
}

# reply templates: service code (None for every service), title zh, title en, text zh, text en
REPLIES: tuple[tuple[str | None, str, str, str, str], ...] = (
    (
        None,
        "已受理，转交部门办理",
        "Received, passed to the department",
        "{name}您好，您反映的问题（编号 {number}）已受理，我们已转交{service}相关部门办理，"
        "办理结果将按时答复您。感谢您对城市工作的支持。",
        "Hello {name}, your report (number {number}) is received and has been passed to the "
        "department responsible for {service}. We will answer you by the deadline. Thank you.",
    ),
    (
        None,
        "政策咨询答复",
        "Answer to a question about a policy",
        "{name}您好，关于您咨询的问题（编号 {number}）：",
        "Hello {name}, about your question (number {number}): ",
    ),
    (
        "road",
        "道路破损：已安排维修",
        "Road damage: repairs are scheduled",
        "{name}您好，您反映的道路破损问题（编号 {number}）已由市交通运输局安排维修，"
        "施工期间请注意绕行。",
        "Hello {name}, the road damage you reported (number {number}) is scheduled for repair by "
        "the Transport Bureau; please take care around the works.",
    ),
)
