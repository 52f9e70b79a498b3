"""Settings come only from the environment; a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from guidance_shared.settings import LauncherSettings, Settings, SettingsError, TopicDefaults


def test_defaults_are_the_embedded_suite_on_loopback() -> None:
    settings = Settings.from_env("disclosure", {})
    assert settings.transport == "embedded"
    assert settings.database_url == "sqlite:///var/disclosure.sqlite"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8003)
    # ce_dataschema points where this very process serves the schemas, so it answers on a developer's machine
    assert settings.schema_base_uri == "http://127.0.0.1:8003/schemas/events/"
    moved = Settings.from_env("intake", {"GUIDANCE_HTTP_PORT": "9001"})
    assert moved.schema_base_uri == "http://127.0.0.1:9001/schemas/events/"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GUIDANCE_TRANSPORT": "rabbit"}, "GUIDANCE_TRANSPORT"),
        ({"GUIDANCE_TRANSPORT": "kafka"}, "KAFKA_BOOTSTRAP_SERVERS"),
        ({"GUIDANCE_TOPIC_PARTITIONS": "three"}, "GUIDANCE_TOPIC_PARTITIONS"),
        ({"GUIDANCE_TOPIC_PARTITIONS": "0"}, "GUIDANCE_TOPIC_PARTITIONS"),
        ({"GUIDANCE_HTTP_PORT": "-1"}, "GUIDANCE_HTTP_PORT"),
        ({"GUIDANCE_SCHEMA_BASE_URI": "urn:guidance:schema:"}, "GUIDANCE_SCHEMA_BASE_URI"),  # not fetchable
        ({"GUIDANCE_SCHEMA_BASE_URI": "/schemas/events/"}, "GUIDANCE_SCHEMA_BASE_URI"),  # relative
        ({"GUIDANCE_SCHEMA_BASE_URI": "https://guidance.example.gov.cn/schemas"}, "GUIDANCE_SCHEMA_BASE_URI"),
    ],
)
def test_a_bad_setting_names_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env("intake", env)


def test_kafka_settings() -> None:
    settings = Settings.from_env(
        "intake",
        {"GUIDANCE_TRANSPORT": "kafka", "KAFKA_BOOTSTRAP_SERVERS": "k:9092", "GUIDANCE_TOPIC_PREFIX": "county-a"},
    )
    assert (settings.kafka_bootstrap_servers, settings.topic_prefix) == ("k:9092", "county-a")


def test_the_tools_read_their_defaults_through_settings_and_name_a_malformed_variable() -> None:
    defaults = TopicDefaults.from_env({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "GUIDANCE_TOPIC_PARTITIONS": "6"})
    assert (defaults.bootstrap, defaults.partitions, defaults.replication_factor, defaults.prefix) == (
        "k:9092",
        6,
        1,
        "",
    )
    with pytest.raises(SettingsError, match="GUIDANCE_TOPIC_REPLICATION_FACTOR"):
        TopicDefaults.from_env({"GUIDANCE_TOPIC_REPLICATION_FACTOR": "three"})
    launcher = LauncherSettings.from_env({"GUIDANCE_CACHE_DIR": "/srv/cache", "JAVA_HOME": "/opt/jdk"})
    assert (launcher.kafka_version, launcher.cache_dir, launcher.java_home) == (
        None,
        Path("/srv/cache"),
        Path("/opt/jdk"),
    )
    assert LauncherSettings.from_env({}).cache_dir == Path.home() / ".cache" / "guidance-suite"


def test_operations_settings_default_to_one_gunicorn_worker_with_eight_threads_and_no_trusted_proxy() -> None:
    settings = Settings.from_env("intake", {})
    assert (settings.web_workers, settings.web_threads, settings.web_timeout_s) == (1, 8, 30)
    assert (settings.trusted_proxies, settings.worker_http_port) == (0, 0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GUIDANCE_WEB_WORKERS": "0"}, "GUIDANCE_WEB_WORKERS"),
        ({"GUIDANCE_WEB_THREADS": "many"}, "GUIDANCE_WEB_THREADS"),
        ({"GUIDANCE_WEB_TIMEOUT_S": "0"}, "GUIDANCE_WEB_TIMEOUT_S"),
        ({"GUIDANCE_TRUSTED_PROXIES": "-1"}, "GUIDANCE_TRUSTED_PROXIES"),
        ({"GUIDANCE_WORKER_HTTP_PORT": "x"}, "GUIDANCE_WORKER_HTTP_PORT"),
    ],
)
def test_a_bad_operations_setting_names_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env("intake", env)


def test_the_worker_http_port_falls_back_to_its_former_name() -> None:
    assert Settings.from_env("intake", {"GUIDANCE_WORKER_METRICS_PORT": "9101"}).worker_http_port == 9101
    both = {"GUIDANCE_WORKER_METRICS_PORT": "9101", "GUIDANCE_WORKER_HTTP_PORT": "9201"}
    assert Settings.from_env("intake", both).worker_http_port == 9201


# --- Kafka security (issue 12, point 6) ---------------------------------------------------------

SASL = {
    "GUIDANCE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "GUIDANCE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "GUIDANCE_KAFKA_SASL_USERNAME": "guidance",
    "GUIDANCE_KAFKA_SASL_PASSWORD": "s3cret",
}


def test_kafka_security_defaults_to_plaintext_with_no_extra_client_options() -> None:
    assert Settings.from_env("intake", {}).kafka_security.client_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_settings_become_the_options_of_every_kafka_client(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    security = Settings.from_env("intake", {**SASL, "GUIDANCE_KAFKA_SSL_CAFILE": str(ca)}).kafka_security
    assert security.client_options() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "guidance",
        "sasl_plain_password": "s3cret",
        "ssl_cafile": str(ca),
    }
    assert "s3cret" not in repr(security)
    assert TopicDefaults.from_env({**SASL}).security.client_options()["sasl_plain_password"] == "s3cret"


def test_the_password_can_come_from_a_mounted_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-file\n")
    env = {**SASL, "GUIDANCE_KAFKA_SASL_PASSWORD": "", "GUIDANCE_KAFKA_SASL_PASSWORD_FILE": str(secret)}
    assert Settings.from_env("intake", env).kafka_security.sasl_password == "from-file"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GUIDANCE_KAFKA_SECURITY_PROTOCOL": "TLS"}, "GUIDANCE_KAFKA_SECURITY_PROTOCOL"),
        ({**SASL, "GUIDANCE_KAFKA_SASL_MECHANISM": ""}, "GUIDANCE_KAFKA_SASL_MECHANISM"),
        ({**SASL, "GUIDANCE_KAFKA_SASL_MECHANISM": "GSSAPI"}, "GUIDANCE_KAFKA_SASL_MECHANISM"),
        ({**SASL, "GUIDANCE_KAFKA_SASL_USERNAME": ""}, "GUIDANCE_KAFKA_SASL_USERNAME"),
        ({**SASL, "GUIDANCE_KAFKA_SASL_PASSWORD": ""}, "GUIDANCE_KAFKA_SASL_PASSWORD"),
        ({**SASL, "GUIDANCE_KAFKA_SASL_PASSWORD_FILE": "/nonexistent"}, "GUIDANCE_KAFKA_SASL_PASSWORD_FILE"),
        (
            {**SASL, "GUIDANCE_KAFKA_SASL_PASSWORD": "", "GUIDANCE_KAFKA_SASL_PASSWORD_FILE": "/nonexistent"},
            "GUIDANCE_KAFKA_SASL_PASSWORD_FILE",
        ),
        ({"GUIDANCE_KAFKA_SASL_USERNAME": "guidance"}, "GUIDANCE_KAFKA_SASL_USERNAME"),
        ({"GUIDANCE_KAFKA_SSL_CAFILE": "/etc/hostname"}, "GUIDANCE_KAFKA_SSL_CAFILE"),
        ({**SASL, "GUIDANCE_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "GUIDANCE_KAFKA_SSL_CAFILE"),
    ],
)
def test_a_bad_kafka_security_setting_names_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env("intake", env)


def test_the_ledger_key_comes_from_the_environment_or_a_mounted_file_and_is_never_shown(tmp_path: Path) -> None:
    assert Settings.from_env("intake", {}).ledger_key is None  # the development key (guidance_shared.ledger)
    key = "a-ledger-key-of-at-least-32-chars-0001"
    settings = Settings.from_env("intake", {"GUIDANCE_LEDGER_KEY": key})
    assert settings.ledger_key == key and key not in repr(settings)
    secret = tmp_path / "ledger-key"
    secret.write_text(key + "\n", encoding="utf-8")
    assert Settings.from_env("intake", {"GUIDANCE_LEDGER_KEY_FILE": str(secret)}).ledger_key == key
    defaults = Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp_path)})
    assert (defaults.checkpoint_interval_s, defaults.checkpoint_events) == (300.0, 1000)
    assert defaults.checkpoint_path == tmp_path / "intake-checkpoints.jsonl"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GUIDANCE_LEDGER_KEY": "short"}, "GUIDANCE_LEDGER_KEY must have at least 32 characters"),
        ({"GUIDANCE_LEDGER_KEY": "k" * 32, "GUIDANCE_LEDGER_KEY_FILE": "/x"}, "GUIDANCE_LEDGER_KEY_FILE, not both"),
        ({"GUIDANCE_LEDGER_KEY_FILE": "/nonexistent"}, "GUIDANCE_LEDGER_KEY_FILE: cannot read"),
        ({"GUIDANCE_CHECKPOINT_EVENTS": "0"}, "GUIDANCE_CHECKPOINT_EVENTS"),
        ({"GUIDANCE_CHECKPOINT_INTERVAL_S": "soon"}, "GUIDANCE_CHECKPOINT_INTERVAL_S"),
    ],
)
def test_a_bad_ledger_setting_names_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env("intake", env)
