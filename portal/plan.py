"""The seminar of the plan of 07/05/2021 (section II.3), as data.

Every Vietnamese string here is copied exactly from the plan; do not retype them.
"""

from __future__ import annotations

from .models import AssignmentKind

PLAN_KEY = "skhcn-qng-2021-05-07-II.3"

SEMINAR = {
    "title": (
        "Tọa đàm nội bộ về cải cách hành chính năm 2021 nhân Ngày Khoa học và Công nghệ "
        "Việt Nam 18/5"
    ),
    "organiser": "Sở Khoa học và Công nghệ tỉnh Quảng Ngãi",
    "purpose": (
        "Duy trì chỉ số cải cách hành chính năm 2021 của Sở Khoa học và Công nghệ đạt thứ hạng "
        "cao trong tốp đầu của 07 sở, ban, ngành cấp tỉnh."
    ),
    "content": (
        "Xây dựng và triển khai thực hiện các giải pháp duy trì, nâng cao chỉ số cải cách hành "
        "chính của Sở Khoa học và Công nghệ trong năm 2021."
    ),
    "attendance": (
        "Lãnh đạo Sở và Trưởng, phó phòng, đơn vị. Số lượng dưới 20 người."
    ),
    "venue": "Sở Khoa học và Công nghệ tỉnh Quảng Ngãi",
    "capacity": 20,
    # "trước ngày 15/5/2021": the first late instant is 15/05/2021 00:00:00 Vietnam time.
    "deadline_local": (2021, 5, 15, 0, 0),
    # One half-day session on 17/05/2021 (the Office may change it): 08:00–11:30.
    "session_start_local": (2021, 5, 17, 8, 0),
    "session_end_local": (2021, 5, 17, 11, 30),
}

# (code, name) in the plan's order; the code is a short ASCII handle for accounts and files.
UNITS = [
    ("vanphong", "Văn phòng Sở"),
    ("qlcn", "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành"),
    ("khtc", "Phòng Kế hoạch - Tài chính"),
    ("qlkh", "Phòng Quản lý Khoa học"),
    ("thanhtra", "Thanh tra Sở"),
    ("chicuc", "Chi cục Tiêu chuẩn Đo lường Chất lượng"),
    ("trungtam", "Trung tâm Ứng dụng và Dịch vụ khoa học công nghệ"),
]

ASSIGNMENTS = [
    {
        "position": 1,
        "kind": AssignmentKind.INTRODUCTORY_REPORT,
        "unit": "Văn phòng Sở",
        "title": (
            "Tình hình kết quả thực hiện cải cách hành chính năm 2020, các nhiệm vụ và giải pháp "
            "trọng tâm các tháng còn lại trong năm 2021"
        ),
        "note": "",
    },
    {
        "position": 2,
        "kind": AssignmentKind.CONTRIBUTED_PAPER,
        "unit": "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành",
        "title": (
            "Giải pháp duy trì và đẩy mạnh việc nộp hồ sơ TTHC qua dịch vụ công trực tuyến mức "
            "độ 3, mức độ 4 để nâng cao điểm số về cung cấp dịch vụ công trực tuyến"
        ),
        "note": "",
    },
    {
        "position": 3,
        "kind": AssignmentKind.CONTRIBUTED_PAPER,
        "unit": "Phòng Kế hoạch - Tài chính",
        "title": (
            "Giải pháp thực hiện tốt công tác cải cách tài chính công; nâng mức tự chủ của đơn vị "
            "sự nghiệp công lập"
        ),
        "note": "",
    },
    {
        "position": 4,
        "kind": AssignmentKind.CONTRIBUTED_PAPER,
        "unit": "Phòng Quản lý Khoa học",
        "title": (
            "Giải pháp tăng cường hiệu quả xử lý hồ sơ thủ tục hành chính trên phần mềm một cửa "
            "tỉnh Quảng Ngãi đối với các TTHC do phòng tham mưu giải quyết"
        ),
        "note": "",
    },
    {
        "position": 5,
        "kind": AssignmentKind.CONTRIBUTED_PAPER,
        "unit": "Thanh tra Sở",
        "title": (
            "Giải pháp đẩy mạnh các hoạt động về theo dõi thi hành pháp luật trong lĩnh vực khoa "
            "học và công nghệ"
        ),
        "note": "",
    },
    {
        "position": 6,
        "kind": AssignmentKind.CONTRIBUTED_PAPER,
        "unit": "Chi cục Tiêu chuẩn Đo lường Chất lượng",
        "title": (
            "Tăng cường công tác kiểm tra việc xây dựng, áp dụng, duy trì, cải tiến Hệ thống quản "
            "lý chất lượng theo Tiêu chuẩn quốc gia TCVN ISO 9001:2015 tại các cơ quan hành chính "
            "nhà nước trên địa bàn tỉnh"
        ),
        "note": (
            "để nâng cao chỉ số chấm điểm về việc duy trì, cải tiến ISO 9001 theo quy định"
        ),
    },
    {
        "position": 7,
        "kind": AssignmentKind.CONTRIBUTED_PAPER,
        "unit": "Trung tâm Ứng dụng và Dịch vụ khoa học công nghệ",
        "title": "Giải pháp nâng cao công tác tuyên truyền về công tác cải cách hành chính của Sở "
        "và của tỉnh",
        "note": "",
    },
]

# Demo accounts made by ``flask seminar load-plan --demo``. Passwords are for trying the
# portal on one's own machine only.
DEMO_DOMAIN = "demo.skhcn.quangngai.gov.vn"
DEMO_PASSWORD = "demo2021"
DEMO_OFFICE = ("vanphong", "Nguyễn Thị Hạnh", "Chánh Văn phòng")
DEMO_PRESENTERS = {
    "qlcn": ("Trần Văn Minh", "Trưởng phòng"),
    "khtc": ("Lê Thị Thu", "Trưởng phòng"),
    "qlkh": ("Phạm Quốc Bảo", "Phó Trưởng phòng"),
    "thanhtra": ("Võ Thị Lan", "Chánh Thanh tra"),
    "chicuc": ("Huỳnh Văn Đức", "Chi cục trưởng"),
    "trungtam": ("Đặng Thị Mai", "Giám đốc Trung tâm"),
}
DEMO_ATTENDEES = [
    ("giamdoc", "Nguyễn Văn Thành", "Giám đốc Sở"),
    ("phogiamdoc1", "Bùi Thị Hoa", "Phó Giám đốc Sở"),
    ("phogiamdoc2", "Trương Công Sơn", "Phó Giám đốc Sở"),
]
