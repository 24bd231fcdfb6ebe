// What the counter sees for each outcome: the verdict, the reason in plain Chinese, what the resident can do.

const FRESH = "请对方在「信易+」App 中刷新信用码后重新出示。";

export const REFUSALS = {
  level_too_low: ["信用等级未达到本场景的要求", "对方可在「信易+」App 查看信用分和提升建议；本次可按常规方式办理（如支付押金）。"],
  restricted: ["对方目前受失信联合惩戒限制", "对方可在「信易+」App 查看原因，对有误的记录提出异议，或在满足条件后申请信用修复。"],
  open_default: ["对方有一笔未了结的信易租违约", "对方可在「信易+」App 处理或申诉该违约，了结后即可恢复。"],
  pass_revoked: ["信用码已被持有人作废", FRESH],
};

// [verdict, reason, advice] of a scan that could not be decided.
export const FAILURES = {
  token_replayed: ["已使用", "这个信用码已经核验过，每个码只能用一次。", FRESH],
  token_expired: ["信用码已过期", "信用码只在出示后约 90 秒内有效（离线码在其有效期内）。", FRESH],
  token_not_yet_valid: ["信用码尚未生效", "码上的生效时间晚于本设备的时间。", "请检查本设备的日期和时间设置后重试。"],
  token_invalid_signature: ["不是有效的信易+信用码", "码的签名校验失败，可能被篡改或伪造。", "请对方打开「信易+」App 的「出示信用码」重新出示。"],
  token_unknown_key: ["不是有效的信易+信用码", "码的签发密钥未知。", "请对方打开「信易+」App 的「出示信用码」重新出示。"],
  token_malformed: ["不是信易+信用码", "扫到的二维码不是信易+信用码。", "请对方打开「信易+」App 的「出示信用码」。"],
  token_algorithm_not_allowed: ["不是信易+信用码", "扫到的二维码不是信易+信用码。", "请对方打开「信易+」App 的「出示信用码」。"],
  not_xinyi: ["不是信易+信用码", "扫到的二维码不是信易+信用码。", "请对方打开「信易+」App 的「出示信用码」。"],
  no_code: ["未识别到二维码", "输入的内容里没有可识别的信用码。", "请将二维码完整放入取景框并保持稳定，光线暗时打开手电筒；仍不行可手动输入码。"],
  token_scenario_mismatch: ["此码不适用于本场景", "这是为其他场景签发的离线码。", "请对方出示本场景的信用码（联网时可用在线码）。"],
  network: ["网络不可用，无法核验", "在线信用码必须联网核验。", "请对方出示「离线码」，或待网络恢复后重试。"],
  online_only: ["网络不可用，无法核验", "在线信用码必须联网核验。", "请对方出示「离线码」，或待网络恢复后重试。"],
  scenario_needs_network: ["本场景必须联网核验", "本场景的权益价值较高，不接受离线码。", "请待网络恢复后重试。"],
  deny_list_stale: ["离线名单已过期，暂不能离线核验", "离线名单超过有效期未更新。", "请让本设备联网更新名单后重试。"],
  api_key_revoked: ["本设备已被停用", "商户管理员已注销本设备。", "请联系商户管理员重新激活。"],
  invalid_api_key: ["本设备已被停用", "本设备的凭证已失效。", "请联系商户管理员重新激活。"],
  partner_suspended: ["商户已被暂停", "本商户目前不能核验信用码。", "请联系信易+平台。"],
};

export const UNKNOWN_FAILURE = ["无法核验", "核验没有完成。", "请稍后重试；多次失败请联系商户管理员。"];

const ITEM_NAMES = { power_bank: "充电宝", bike: "单车", equipment: "设备" };
export const itemName = (kind) => ITEM_NAMES[kind] || kind;
