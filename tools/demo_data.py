"""Demo organisations from the manual: departments (日常工作部门), the office, committees.

The cases service's reference data and the demo reviewer accounts both use these ids.
"""

from shared.organisations import OFFICE_ID, OFFICE_NAME

OFFICE = (OFFICE_ID, OFFICE_NAME)

DEPARTMENTS = {
    "dept-daj": "深圳市档案局",
    "dept-gcslh": "深圳市工程师联合会",
    "dept-wtly": "深圳市文体旅游局",
    "dept-jyj": "深圳市教育局",
    "dept-szu": "深圳大学",
    "dept-barsj": "宝安区人力资源局",
    "dept-swj": "深圳市水务局",
    "dept-sjxh": "深圳市塑胶行业协会",
}

# committee id: (name, department id)
COMMITTEES = {
    "cmte-da-zj": ("深圳市档案中级专业技术资格评审委员会", "dept-daj"),
    "cmte-qg-gj": ("深圳市轻工专业高级专业技术资格评审委员会", "dept-gcslh"),
    "cmte-tyjl-zj": ("深圳市体育教练员中级专业技术资格评审委员会", "dept-wtly"),
    "cmte-zzjx-zj": ("深圳市中专技校教师中级专业技术资格评审委员会", "dept-jyj"),
    "cmte-szu-zj": ("深圳大学教师中级专业技术资格评审委员会", "dept-szu"),
    "cmte-zx6-zj": ("深圳市中学教师中级专业技术资格第六评审委员会", "dept-barsj"),
    "cmte-sl-zj": ("深圳市水利水电专业中级专业技术资格评审委员会", "dept-swj"),
    "cmte-shhg-zj": ("深圳市石油化工专业中级专业技术资格评审委员会", "dept-sjxh"),
}
