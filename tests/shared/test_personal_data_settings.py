"""intake's personal-data settings (KEKs, the pseudonym key) and ``guidance-intake keys``: usable values are
read, unusable ones fail at start with the variable's name, and no key is ever shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from guidance_intake.adapters.subject_keys import SqlSubjectKeys
from guidance_intake.settings import IntakeSettings
from guidance_shared.db import make_engine
from guidance_shared.personal_data.errors import UnknownKek
from guidance_shared.personal_data.local_keks import LocalKeyEncryptionKeys, new_entry
from guidance_shared.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]
KEK_A, KEK_B = new_entry("2026-01"), new_entry("2026-07")
PSEUDONYM_KEY = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"  # base64url of 32 bytes


def _secrets_of(*entries: str) -> list[str]:
    return [entry.split("=", 1)[1] for entry in entries]


def test_unset_means_not_configured() -> None:
    settings = IntakeSettings.from_env({})
    assert settings.keks is None and settings.pseudonyms is None
    assert settings == IntakeSettings()


def test_keks_from_the_variable_or_a_file_and_the_current_one(tmp_path: Path) -> None:
    inline = IntakeSettings.from_env({"GUIDANCE_PERSONAL_DATA_KEKS": f"{KEK_A},{KEK_B}"}).keks
    assert inline is not None and inline.current_id == "2026-07"
    key_file = tmp_path / "keks"
    key_file.write_text(f"# rotated in July\n{KEK_A}\n{KEK_B}\n", encoding="utf-8")
    from_file = IntakeSettings.from_env(
        {"GUIDANCE_PERSONAL_DATA_KEKS_FILE": str(key_file), "GUIDANCE_PERSONAL_DATA_KEK_CURRENT": "2026-01"}
    ).keks
    assert from_file is not None and from_file.current_id == "2026-01" and from_file.ids == ("2026-01", "2026-07")
    pseudonyms = IntakeSettings.from_env({"GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY}).pseudonyms
    assert pseudonyms is not None
    assert pseudonyms.subject_id("11010519491231002X") == (
        "7d5b965be65af19779a1fcf1c5eb13eb541ddf871fd3b4456499c68daf054d26"  # docs/personal-data.md §5
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"GUIDANCE_PERSONAL_DATA_KEKS": KEK_A, "GUIDANCE_PERSONAL_DATA_KEKS_FILE": "/k"},
            "GUIDANCE_PERSONAL_DATA_KEKS",
        ),
        ({"GUIDANCE_PERSONAL_DATA_KEKS_FILE": "/nonexistent/keks"}, "GUIDANCE_PERSONAL_DATA_KEKS_FILE"),
        ({"GUIDANCE_PERSONAL_DATA_KEKS": KEK_A + "AA"}, "GUIDANCE_PERSONAL_DATA_KEKS"),
        (
            {"GUIDANCE_PERSONAL_DATA_KEKS": KEK_A, "GUIDANCE_PERSONAL_DATA_KEK_CURRENT": "x"},
            "GUIDANCE_PERSONAL_DATA_KEKS",
        ),
        ({"GUIDANCE_PERSONAL_DATA_KEK_CURRENT": "2026-01"}, "GUIDANCE_PERSONAL_DATA_KEK_CURRENT"),
        ({"GUIDANCE_PSEUDONYM_KEY": "c2hvcnQ"}, "GUIDANCE_PSEUDONYM_KEY"),
        ({"GUIDANCE_PSEUDONYM_KEY": "not base64 at all!"}, "GUIDANCE_PSEUDONYM_KEY"),
    ],
)
def test_an_unusable_value_fails_with_the_variables_name_and_without_the_key(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        IntakeSettings.from_env(env)
    assert named in str(caught.value)
    assert not any(secret in str(caught.value) for secret in _secrets_of(KEK_A))


def test_settings_never_show_a_key() -> None:
    settings = IntakeSettings.from_env(
        {"GUIDANCE_PERSONAL_DATA_KEKS": f"{KEK_A},{KEK_B}", "GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY}
    )
    shown = f"{settings!r} {settings.keks!r} {settings.pseudonyms!r}"
    assert not any(secret in shown for secret in [*_secrets_of(KEK_A, KEK_B), PSEUDONYM_KEY])


# --- guidance-intake keys ----------------------------------------------------------------------------------


def _intake(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_DATABASE_URL": f"sqlite:///{tmp_path}/intake.sqlite",
        "GUIDANCE_TRANSPORT": "embedded",
    }
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GUIDANCE_PERSONAL_DATA", "GUIDANCE_PSEUDONYM", "GUIDANCE_SEAL_PERSONAL_DATA"))
    }
    return subprocess.run(
        [sys.executable, "-m", "guidance_intake", *args],
        env={**clean, **base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_keys_rotate_rewraps_every_live_key_under_the_new_kek(tmp_path: Path) -> None:
    assert _intake(tmp_path, {}, "migrate").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path}/intake.sqlite")
    try:
        before = SqlSubjectKeys(engine, LocalKeyEncryptionKeys.from_text(KEK_A))
        made = [before.key_for(subject) for subject in ("a" * 64, "b" * 64, "c" * 64)]
        before.erase("c" * 64)

        rotated = _intake(tmp_path, {"GUIDANCE_PERSONAL_DATA_KEKS": f"{KEK_A},{KEK_B}"}, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        assert json.loads(rotated.stdout) == {"rewrapped": 2, "kek": "2026-07"}
        output = rotated.stdout + rotated.stderr
        assert not any(secret in output for secret in _secrets_of(KEK_A, KEK_B))

        only_new = SqlSubjectKeys(engine, LocalKeyEncryptionKeys.from_text(KEK_B))
        assert [only_new.get(key.key_id) for key in made[:2]] == made[:2]
        again = _intake(tmp_path, {"GUIDANCE_PERSONAL_DATA_KEKS": f"{KEK_A},{KEK_B}"}, "keys", "rotate")
        assert json.loads(again.stdout) == {"rewrapped": 0, "kek": "2026-07"}
        with pytest.raises(UnknownKek):
            SqlSubjectKeys(engine, LocalKeyEncryptionKeys.from_text(KEK_A)).get(made[0].key_id)
    finally:
        engine.dispose()


def test_keys_rotate_refuses_without_keks_and_a_kek_it_cannot_read(tmp_path: Path) -> None:
    assert _intake(tmp_path, {}, "migrate").returncode == 0
    unset = _intake(tmp_path, {}, "keys", "rotate")
    assert unset.returncode == 2 and "GUIDANCE_PERSONAL_DATA_KEKS" in unset.stderr
    engine = make_engine(f"sqlite:///{tmp_path}/intake.sqlite")
    try:
        SqlSubjectKeys(engine, LocalKeyEncryptionKeys.from_text(KEK_A)).key_for("a" * 64)
    finally:
        engine.dispose()
    lost = _intake(tmp_path, {"GUIDANCE_PERSONAL_DATA_KEKS": KEK_B}, "keys", "rotate")
    assert lost.returncode == 2 and "2026-01" in lost.stderr


def test_keys_new_kek_prints_an_entry_the_settings_read(tmp_path: Path) -> None:
    made = _intake(tmp_path, {}, "keys", "new-kek", "2027-01")
    assert made.returncode == 0, made.stderr
    keks = IntakeSettings.from_env({"GUIDANCE_PERSONAL_DATA_KEKS": made.stdout.strip()}).keks
    assert keks is not None and keks.current_id == "2027-01"
    assert _intake(tmp_path, {}, "keys", "new-kek", "bad|id").returncode == 2


def test_an_intake_on_kafka_without_keys_does_not_start_unless_sealing_is_switched_off(tmp_path: Path) -> None:
    # sealing is on by default, and on Kafka intake makes no keys of its own: the operator is told what to set
    assert _intake(tmp_path, {}, "migrate").returncode == 0
    kafka = {"GUIDANCE_TRANSPORT": "kafka", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    refused = _intake(tmp_path, kafka, "verify")
    assert refused.returncode == 2
    assert "GUIDANCE_SEAL_PERSONAL_DATA needs GUIDANCE_PERSONAL_DATA_KEKS[_FILE] and GUIDANCE_PSEUDONYM_KEY" in (
        refused.stderr
    )
    assert not (tmp_path / "personal-data").exists()
    # and an explicit false starts it without keys, recording persons in clear as before
    off = _intake(tmp_path, {**kafka, "GUIDANCE_SEAL_PERSONAL_DATA": "false"}, "verify")
    assert off.returncode == 0, off.stderr


def test_a_service_with_an_unusable_kek_setting_does_not_start(tmp_path: Path) -> None:
    assert _intake(tmp_path, {}, "migrate").returncode == 0
    refused = _intake(tmp_path, {"GUIDANCE_PERSONAL_DATA_KEKS": "2026-01=short"}, "verify")
    assert refused.returncode == 2 and "GUIDANCE_PERSONAL_DATA_KEKS" in refused.stderr
