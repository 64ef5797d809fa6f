"""The crmsim command."""

from click.testing import CliRunner

from simulator.cli import main


def test_serve_refuses_more_than_one_worker():
    result = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "refusing --workers 2" in result.output
    assert "one process" in result.output


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "crmsim" in result.output


def test_served_instance_answers_vendor_and_control_routes(served):
    import requests

    assert requests.get(f"{served}/__sim/health", timeout=5).json()["status"] == "ok"
    r = requests.get(f"{served}/crm/1?email=a@b.co", timeout=5)
    assert (r.status_code, r.json()["status"]) == (403, "error")
