"""The pre-approval office (专技处): one organisation, so it has one id everywhere.

Accounts store it as the office accounts' org_id, and the cases service files the office's
done work (已办) under it; departments and committees come from the reference data instead.
"""

OFFICE_ID = "office-zjc"
OFFICE_NAME = "深圳市人力资源和社会保障局专业技术人员管理处（专技处）"
