from tests.factories import login, make_org, make_user


def test_login_and_dashboard(client, db):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    login(client, user.email)
    page = client.get("/")
    assert page.status_code == 200
    assert "대시보드" in page.text
