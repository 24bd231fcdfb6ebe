from tests.helpers import make_phone, sign_in


def test_sign_in_and_me(client, sms):
    phone = make_phone()
    pair = sign_in(client, sms, phone)
    me = client.get("/v1/me", headers=pair["headers"])
    assert me.status_code == 200
    assert me.json()["phone"] == phone[:3] + "****" + phone[-4:]
