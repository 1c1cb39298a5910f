from conftest import Client, World


def test_exporter_sees_own_dashboard(client: Client, world: World) -> None:
    client.login("a@test.id")
    page = client.get("/batches")
    assert page.status_code == 200
    assert "A-LOT-1" in page.get_data(as_text=True)
    assert "B-LOT-1" not in page.get_data(as_text=True)
