"""`crmsim fake`: realistic, deterministic state documents that load as they are."""

import json

from click.testing import CliRunner

from simulator.cli import main
from simulator.fake import credentials, dumps, fake_state


def test_the_same_seed_gives_the_same_document_byte_for_byte():
    assert dumps(7, 40) == dumps(7, 40)
    assert dumps(7, 40) != dumps(8, 40)


def test_the_streamed_text_is_the_document_as_compact_json():
    assert dumps(3, 25) == json.dumps(fake_state(3, 25), separators=(",", ":"), ensure_ascii=False)


def test_records_depend_on_their_index_only():
    small, large = fake_state(5, 10), fake_state(5, 30)
    assert large["botw"]["contacts"][:10] == small["botw"]["contacts"]
    assert large["antcrm"]["customers"][:10] == small["antcrm"]["customers"]


def test_a_fake_state_loads_with_put_state_and_reads_back(client, sim):
    doc = fake_state(11, 60)
    loaded = sim.put_state(doc)
    assert len(loaded["botw"]["contacts"]) == 60
    assert len(loaded["omoto"]["responses"]) == 60
    assert len(loaded["antcrm"]["customers"]) == 60
    assert len(loaded["antcrm"]["deals"]) == 6
    assert len(loaded["crmcom"]["contacts"]) == 60
    assert len(loaded["crmcom"]["provisioning_requests"]) == 60
    emails = [c["email"] for c in loaded["botw"]["contacts"]]
    assert len(set(emails)) == 60 and all("@" in e for e in emails)


def test_the_fake_credentials_work_against_the_loaded_state(client, sim):
    sim.put_state(fake_state(2, 20))
    creds = credentials(2)
    contact = fake_state(2, 1)["botw"]["contacts"][0]
    r = client.get(
        f"/crm/{contact['listing_id']}",
        query_string={"email": contact["email"]},
        headers={"Authorization": f"Bearer {creds['botw']['api_key']}"},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["data"]["results"][0]["contact_id"] == 1


def test_crmsim_fake_writes_a_file_that_loads(tmp_path, client, sim):
    out = tmp_path / "state.json"
    runner = CliRunner()
    result = runner.invoke(
        main, ["fake", "--seed", "4", "--size", "15", "--vendors", "botw,crmcom", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert sorted(doc) == ["botw", "crmcom"]
    assert doc == fake_state(4, 15, ["botw", "crmcom"])
    sim.put_state(doc)
    again = runner.invoke(main, ["fake", "--seed", "4", "--size", "15", "--vendors", "botw,crmcom"])
    assert again.stdout == out.read_text()  # stderr names the credentials


def test_crmsim_fake_refuses_unknown_vendors():
    result = CliRunner().invoke(main, ["fake", "--vendors", "botw,nope"])
    assert result.exit_code == 2
    assert "unknown vendors: nope" in result.output
