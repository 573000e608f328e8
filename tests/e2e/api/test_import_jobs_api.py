"""A large referral file through the API: 202, progress at its address, a report to download."""

from __future__ import annotations

import csv
import io

from tests.e2e.api.conftest import Api
from tests.e2e.api.test_csv_import import ENGLISH, good_file, row, upload
from workflow import import_jobs


def test_a_file_over_the_inline_size_is_queued_and_its_job_can_be_followed(api: Api) -> None:
    api.wired.settings.import_inline_max_bytes = 1024
    answer = upload(api, good_file(40))
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert answer.headers["location"] == job["href"] == f"/imports/{job['id']}"
    assert (job["status"], job["report_href"]) == ("queued", None)
    early = api.get("bailiff-vko", f"/imports/{job['id']}/report.csv")
    assert early.status_code == 409 and "queued" in early.json()["detail"]
    assert import_jobs.run_due(api.wired.engine) == 1
    done = api.get("bailiff-vko", job["href"]).json()
    assert (done["status"], done["rows"], done["imported"], done["rejected"]) == ("done", 40, 40, 0)
    report = api.get("bailiff-vko", done["report_href"])
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(report.text)))
    assert len(lines) == 40 and all(r["case_id"] for r in lines)
    mine = api.get("bailiff-vko", "/imports").json()
    assert [j["id"] for j in mine] == [job["id"]]


def test_bad_rows_of_a_queued_file_are_named_and_nothing_is_opened(api: Api) -> None:
    text = "\n".join([ENGLISH, row(0), row(1, iin="123"), row(2)]) + "\n"
    answer = upload(api, text + "", partial=False, background=True)
    assert answer.status_code == 202
    import_jobs.run_due(api.wired.engine)
    job = api.get("bailiff-vko", answer.headers["location"]).json()
    assert (job["status"], job["rejected"], job["imported"]) == ("refused", 1, 0)
    assert job["errors"][0]["line"] == 3 and job["errors"][0]["field"] == "debtor_iin_bin"
    assert api.get("root", "/cases").json()["total"] == 0


def test_another_bailiff_does_not_see_the_job_a_supervisor_of_the_region_does(api: Api) -> None:
    job = upload(api, good_file(2), background=True).json()
    assert api.get("bailiff-2", job["href"]).status_code == 404
    assert api.get("sup-kar", job["href"]).status_code == 404
    assert api.get("sup-vko", job["href"]).status_code == 200
    assert api.get("root", job["href"]).status_code == 200
    assert api.get("bailiff-2", "/imports").json() == []


def test_an_unknown_job_is_404_and_a_malformed_id_422(api: Api) -> None:
    assert api.get("bailiff-vko", "/imports/999").status_code == 404
    assert api.get("bailiff-vko", "/imports/abc").status_code == 422
    assert api.get("bailiff-vko", "/imports/0").status_code == 422


def test_an_empty_upload_is_refused_before_any_job_is_queued(api: Api) -> None:
    answer = upload(api, "", background=True)
    assert answer.status_code == 422 and answer.json()["field"] == "file"
    assert api.get("root", "/imports").json() == []
