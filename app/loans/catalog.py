"""The fixed vocabularies of 信易贷, each code with a Chinese and an English label."""

from __future__ import annotations

# GB/T 4754-2017 国民经济行业分类, sections (门类).
INDUSTRIES: dict[str, tuple[str, str]] = {
    "A": ("农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    "B": ("采矿业", "Mining"),
    "C": ("制造业", "Manufacturing"),
    "D": ("电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water"),
    "E": ("建筑业", "Construction"),
    "F": ("批发和零售业", "Wholesale and retail trade"),
    "G": ("交通运输、仓储和邮政业", "Transport, storage and post"),
    "H": ("住宿和餐饮业", "Accommodation and catering"),
    "I": ("信息传输、软件和信息技术服务业", "Information transmission, software and IT services"),
    "J": ("金融业", "Finance"),
    "K": ("房地产业", "Real estate"),
    "L": ("租赁和商务服务业", "Leasing and business services"),
    "M": ("科学研究和技术服务业", "Scientific research and technical services"),
    "N": ("水利、环境和公共设施管理业", "Water, environment and public facilities"),
    "O": ("居民服务、修理和其他服务业", "Resident, repair and other services"),
    "P": ("教育", "Education"),
    "Q": ("卫生和社会工作", "Health and social work"),
    "R": ("文化、体育和娱乐业", "Culture, sports and entertainment"),
    "S": ("公共管理、社会保障和社会组织", "Public administration and social organisations"),
    "T": ("国际组织", "International organisations"),
}

# Why a named bank got no referral (the first check each of its products failed).
MATCH_REASONS: dict[str, tuple[str, str]] = {
    "no_active_product": ("该银行暂无在售产品", "The bank has no product on offer"),
    "level_below_product_minimum": ("信用等级低于产品要求", "Credit level below the product's minimum"),
    "amount_out_of_range": ("申请金额不在产品额度范围内", "Amount outside the product's range"),
    "term_out_of_range": ("申请期限不在产品期限范围内", "Term outside the product's range"),
    "industry_not_served": ("产品不面向该行业", "The product does not serve this industry"),
    "region_not_served": ("产品不面向该地区", "The product does not serve this region"),
}

APPLICATION_REASONS: dict[str, tuple[str, str]] = {
    "no_matching_product": ("所选银行均无匹配的产品", "None of the banks chosen has a matching product"),
}

# A bank's reason for declining (it gives one code; free text would invite personal data).
DECLINE_REASONS: dict[str, tuple[str, str]] = {
    "insufficient_repayment_capacity": ("还款能力不足", "Insufficient repayment capacity"),
    "credit_history": ("信用记录不符合要求", "Credit history does not meet the bank's criteria"),
    "outside_risk_appetite": ("不符合银行风险偏好", "Outside the bank's risk appetite"),
    "incomplete_information": ("资料不完整", "Information incomplete"),
    "collateral_required": ("需提供担保或抵押", "Guarantee or collateral required"),
    "applicant_unreachable": ("无法联系申请企业", "Could not reach the applicant"),
    "applicant_withdrew": ("申请企业放弃", "The applicant withdrew"),
    "other": ("其他原因", "Other reasons"),
}


def labels(table: dict[str, tuple[str, str]], code: str) -> dict[str, str]:
    zh, en = table.get(code, (code, code))
    return {"zh": zh, "en": en}
