"""Tools of external MCP servers (`mcp_servers`): a real stdio server (tests/mcp/weather_server.py,
official SDK) registered as plan tools, called by plans through the executor, and servers that
fail to start, exit, or do not answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pocketagent.cli.main import app
from pocketagent.errors import ConfigError, McpServerError, ToolError, ToolTimeoutError
from pocketagent.mcp_client import add_mcp_tools
from pocketagent.settings import McpServerConfig, load_settings
from pocketagent.tools.builtin import builtin_registry, send_sms
from pocketagent.tools.registry import Parameter, ParamType, ToolRegistry

WEATHER_SERVER = Path(__file__).with_name("weather_server.py")
POCKETAGENT = Path(sys.executable).with_name("pocketagent")


def weather(**options: object) -> McpServerConfig:
    return McpServerConfig(name="weather", command=sys.executable, args=[str(WEATHER_SERVER)], **options)


@pytest.fixture(scope="module")
def weather_tools() -> Iterator[ToolRegistry]:
    """The built-in tools plus those of one running weather server (shared: starting it takes a while)."""
    registry = builtin_registry()
    with add_mcp_tools(registry, [weather(timeout_s=1.5)]):
        yield registry


def toml_value(value: object) -> str:
    if isinstance(value, dict):  # an inline table
        return "{ " + ", ".join(f"{key} = {json.dumps(item)}" for key, item in value.items()) + " }"
    return json.dumps(value)  # strings, numbers, booleans and lists of strings are the same in TOML


def toml_servers(*servers: dict[str, object]) -> str:
    """`[[mcp_servers]]` tables, as a user writes them in config.toml."""
    return "".join(
        "[[mcp_servers]]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in server.items())
        for server in servers
    )


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script in a subprocess (it starts and stops the MCP servers itself)."""
    return subprocess.run([str(POCKETAGENT), *args], capture_output=True, text=True, timeout=300, env=os.environ.copy())


WEATHER_TOML = {"name": "weather", "command": sys.executable, "args": [str(WEATHER_SERVER)]}


def test_server_tools_are_registered_with_their_parameters(weather_tools: ToolRegistry):
    assert weather_tools.names()[:16] == builtin_registry().names()
    assert weather_tools.names()[16:] == [
        "get_weather", "get_forecast", "weather_send_sms", "fail_always", "slow_lookup", "crash",
    ]
    get_weather = weather_tools.get("get_weather")
    assert get_weather.parameters == (Parameter("city", ParamType(("str",)), "City"),)
    assert get_weather.description == "The current weather in a city."  # the first paragraph only
    assert get_weather.side_effect is False  # the server marks it read-only
    assert weather_tools.get("get_forecast").signature_text() == "get_forecast(city: str, days: int) -> str"
    assert weather_tools.get("fail_always").side_effect is True  # not marked read-only: dry runs skip it


def test_a_server_tool_never_replaces_a_builtin(weather_tools: ToolRegistry):
    assert weather_tools.get("send_sms").func is send_sms
    assert weather_tools.get("weather_send_sms").func("+1-555-0100", "hi") == "weather SMS to +1-555-0100"


def test_calls_return_the_servers_answer_or_its_error(weather_tools: ToolRegistry):
    assert weather_tools.get("get_weather").func("Paris") == "Sunny, 21 °C in Paris"
    with pytest.raises(ToolError, match=r"^fail_always \(MCP server 'weather'\): .*no station near Oslo"):
        weather_tools.get("fail_always").func("Oslo")


def test_a_call_that_outlasts_timeout_s_is_a_timeout_error_and_the_session_goes_on(weather_tools: ToolRegistry):
    with pytest.raises(ToolTimeoutError, match=r"slow_lookup \(MCP server 'weather'\) did not answer within 1.5 s"):
        weather_tools.get("slow_lookup").func(60.0)
    assert weather_tools.get("get_forecast").func("Lyon", 2) == "2 days of sun in Lyon"


def test_prefix_names_every_tool_after_its_server():
    registry = builtin_registry()
    with add_mcp_tools(registry, [weather(prefix=True)]):
        assert registry.names()[16:] == [
            "weather_get_weather", "weather_get_forecast", "weather_send_sms", "weather_fail_always",
            "weather_slow_lookup", "weather_crash",
        ]  # fmt: skip


def test_a_plan_calls_a_server_tool_through_the_executor(isolated_config: Path, tmp_path: Path):
    isolated_config.write_text(toml_servers(WEATHER_TOML))
    plan = tmp_path / "plan.txt"
    plan.write_text(
        '1. get_weather("Paris")\n2. create_note("Paris weather", "$1", "Travel")\n3. join()<END_OF_PLAN>\n'
    )
    result = run_cli("run", "--plan", str(plan), "--apps", "recorder", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    weather_action, note = data["actions"]
    assert weather_action["tool"] == "get_weather" and weather_action["result"] == "Sunny, 21 °C in Paris"
    assert note["args"] == ["Paris weather", "Sunny, 21 °C in Paris", "Travel"]  # $1 is the server's answer
    assert "Traceback" not in result.stderr


def test_servers_that_fail_to_start_are_clear_warnings_and_the_run_goes_on(isolated_config: Path, tmp_path: Path):
    isolated_config.write_text(
        toml_servers(
            {"name": "crashes", "command": sys.executable, "args": ["-c", "import sys; sys.exit('no weather today')"]},
            {"name": "missing", "command": str(tmp_path / "no-such-server")},
            {"name": "mute", "command": sys.executable, "args": ["-c", "import time; time.sleep(600)"],
             "startup_timeout_s": 1},
        )  # fmt: skip
    )
    plan = tmp_path / "plan.txt"
    plan.write_text('1. get_weather("Paris")\n2. get_phone_number("Ana")\n3. join()<END_OF_PLAN>\n')
    result = run_cli("run", "--plan", str(plan), "--apps", "recorder", "--json")
    assert "MCP server 'crashes' stopped before it answered" in result.stderr
    assert "(it said: no weather today); its tools are left out" in result.stderr
    assert f"cannot start MCP server 'missing': command not found: {tmp_path / 'no-such-server'}" in result.stderr
    assert "MCP server 'mute' did not answer within 1 s; its tools are left out" in result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert result.returncode == 1 and data["actions"][0]["error"] == "unknown tool 'get_weather'"
    assert data["actions"][1]["status"] == "ok"  # the built-in tools still run


def test_mcp_tools_lists_each_servers_tools_and_errors(isolated_config: Path):
    broken = {"name": "broken", "command": sys.executable, "args": ["-c", "raise SystemExit('bad config')"]}
    isolated_config.write_text(toml_servers(WEATHER_TOML, broken))
    result = run_cli("mcp", "tools", "--json")
    assert result.returncode == 1
    weather_entry, broken_entry = json.loads(result.stdout)["servers"]
    assert [tool["name"] for tool in weather_entry["tools"]][:2] == ["get_weather", "get_forecast"]
    assert weather_entry["tools"][0]["parameters"]["properties"]["city"]["type"] == "string"
    assert broken_entry["error"].startswith("MCP server 'broken' stopped before it answered")
    assert "bad config" in broken_entry["error"]


def test_mcp_servers_in_the_config_file_are_validated(isolated_config: Path):
    isolated_config.write_text(toml_servers(WEATHER_TOML, WEATHER_TOML))
    with pytest.raises(ConfigError, match="MCP server names must be unique; repeated: weather"):
        load_settings()
    isolated_config.write_text(toml_servers({"name": "no spaces", "command": "x"}))
    with pytest.raises(ConfigError, match=r"mcp_servers\.0\.name"):
        load_settings()


def test_config_masks_the_env_of_mcp_servers(isolated_config: Path):
    isolated_config.write_text(toml_servers({**WEATHER_TOML, "env": {"WEATHER_API_KEY": "s3cret"}}))
    assert load_settings().mcp_servers[0].env == {"WEATHER_API_KEY": "s3cret"}
    result = CliRunner().invoke(app, ["config", "--json"])
    assert result.exit_code == 0
    assert "s3cret" not in result.stdout
    assert json.loads(result.stdout)["settings"]["mcp_servers"][0]["env"] == {"WEATHER_API_KEY": "********"}


def test_a_server_that_dies_mid_run_fails_its_calls_clearly():
    registry = builtin_registry()
    with add_mcp_tools(registry, [weather()]):
        with pytest.raises(McpServerError, match=r"^MCP server 'weather' failed during crash: "):
            registry.get("crash").func()
        with pytest.raises(McpServerError, match=r"^MCP server 'weather' is not running \(it stopped during crash: "):
            registry.get("get_weather").func("Paris")
