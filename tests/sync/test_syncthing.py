"""A real carrier: two Syncthing instances on 127.0.0.1 carry `circle sync --folder`
between two profiles, each profile syncing only with its own instance's folder.

Each instance gets its own --home in tmp_path, a generated key, and a config that
names every address explicitly: GUI/REST and sync listener on loopback ports, the
other device at tcp://127.0.0.1:<port>, and discovery, relays, NAT traversal,
usage and crash reporting and upgrades all off. Proxy variables are dropped from
the environment, and each test ends by checking that no socket of either process
touches anything but 127.0.0.1. STMONITORED=1 keeps each instance one process
(no monitor forking a child into another process group), run in its own process
group, which the fixture kills whatever happened.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import urllib.request
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from circle.sync.folder import BundleFolder
from tests.helpers.cli import Cli
from tests.helpers.live import wait_until
from tests.helpers.served import LOOPBACK, closed_port, new_profiles, posts_of

# Part of the default run (nothing deselects `slow`); about 15 s a test.
pytestmark = pytest.mark.slow

FOLDER_ID = "circle-carrier"
STARTUP_SECONDS = 30
DELIVERY_SECONDS = 20
# Bypasses any HTTP proxy in the environment: REST calls stay on loopback.
LOCAL_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Syncthing:
    """One `syncthing serve` process and the folder it shares."""

    name: str
    home: Path
    folder: Path
    device_id: str
    api_key: str = field(default_factory=lambda: secrets.token_hex(16))
    gui_port: int = field(default_factory=closed_port)
    sync_port: int = field(default_factory=closed_port)
    proc: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.home / "syncthing.log"

    def rest(self, path: str) -> dict:
        request = urllib.request.Request(f"http://{LOOPBACK}:{self.gui_port}{path}",
                                         headers={"X-API-Key": self.api_key})
        with LOCAL_HTTP.open(request, timeout=5) as response:
            return json.loads(response.read())

    def answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"syncthing {self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
        try:
            return self.rest("/rest/system/ping").get("ping") == "pong"
        except OSError:
            return False

    def connected_to(self, other: Syncthing) -> bool:
        return bool(self.rest("/rest/system/connections")["connections"].get(other.device_id, {}).get("connected"))

    def folder_state(self) -> str:
        return self.rest(f"/rest/db/status?folder={FOLDER_ID}").get("state", "")

    def bundles(self) -> set[str]:
        return set(BundleFolder(self.folder).names())

    def log_tail(self, lines: int = 15) -> str:
        """Its warnings and connection lines, then its last lines: what explains a stall."""
        try:
            log = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        telling = [line for line in log[:-lines] if "WARNING" in line or "onnect" in line or "isten" in line]
        return "\n".join(telling + log[-lines:])


@dataclass
class Carrier:
    ana: Syncthing
    ben: Syncthing

    def describe(self) -> str:
        parts = []
        for st in (self.ana, self.ben):
            try:
                state = f"folder {st.folder_state()}, connected {st.connected_to(self.other(st))}"
            except OSError as exc:
                state = f"REST unreachable ({exc})"
            parts.append(f"--- syncthing {st.name}: {state}; bundles {sorted(st.bundles())}\n{st.log_tail()}")
        return "\n".join(parts)

    def other(self, st: Syncthing) -> Syncthing:
        return self.ben if st is self.ana else self.ana

    def wait(self, predicate, what: str, timeout: float):
        try:
            return wait_until(predicate, timeout, what, every=0.1)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.describe()}") from None

    def delivered(self, names: set[str], to: Syncthing) -> None:
        """Returns once every named bundle is in `to`'s folder (Syncthing renames a
        file into place only when it is complete)."""
        assert names, "nothing to deliver: the sender wrote no bundle"
        self.wait(lambda: names <= to.bundles(), f"Syncthing to deliver {len(names)} bundle(s) to {to.name}",
                  DELIVERY_SECONDS)


def _syncthing_env(home: Path) -> dict[str, str]:
    # Syncthing dials through any proxy named here; nothing may leave loopback.
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("ST", "CIRCLE_"))}
    env.update(HOME=str(home), STNODEFAULTFOLDER="1", STNOUPGRADE="1", STNORESTART="1", STMONITORED="1")
    return env


def _generate(binary: str, name: str, root: Path) -> Syncthing:
    home, folder = root / f"st-{name}", root / f"shared-{name}"
    (folder / ".stfolder").mkdir(parents=True)  # Syncthing's marker: the folder is meant to be there
    subprocess.run([binary, "generate", f"--home={home}", "--no-default-folder", "--skip-port-probing"],
                   env=_syncthing_env(home), check=True, capture_output=True, timeout=30)
    device_id = ET.parse(home / "config.xml").getroot().find("device").get("id")
    return Syncthing(name, home, folder, device_id)


def _set(parent: ET.Element, tag: str, value: str) -> None:
    for old in parent.findall(tag):
        parent.remove(old)
    ET.SubElement(parent, tag).text = value


def _configure(me: Syncthing, peer: Syncthing) -> None:
    """Rewrite the generated config.xml: loopback only, nothing automatic, the peer
    at an explicit address, one shared folder."""
    path = me.home / "config.xml"
    tree = ET.parse(path)
    root = tree.getroot()
    gui = root.find("gui")
    gui.set("tls", "false")
    _set(gui, "address", f"{LOOPBACK}:{me.gui_port}")
    _set(gui, "apikey", me.api_key)
    options = root.find("options")
    # Every service below is also switched off; its address points at loopback's
    # discard port anyway, so a mistake stays on this machine ("default" would not).
    nowhere = f"{LOOPBACK}:9"
    for tag, value in {
        "globalAnnounceServer": f"https://{nowhere}", "stunServer": nowhere, "urURL": f"http://{nowhere}/",
        "releasesURL": f"http://{nowhere}/", "crashReportingURL": f"http://{nowhere}/",
        "listenAddress": f"tcp://{LOOPBACK}:{me.sync_port}",
        "globalAnnounceEnabled": "false", "localAnnounceEnabled": "false", "relaysEnabled": "false",
        "natEnabled": "false", "announceLANAddresses": "false", "startBrowser": "false",
        "urAccepted": "-1", "crashReportingEnabled": "false", "autoUpgradeIntervalH": "0",
        "reconnectionIntervalS": "1", "restartOnWakeup": "false",
    }.items():
        _set(options, tag, value)
    myself = root.find("device")
    myself.set("name", me.name)
    _set(myself, "address", f"tcp://{LOOPBACK}:{me.sync_port}")
    other = ET.fromstring(ET.tostring(myself))
    other.set("id", peer.device_id)
    other.set("name", peer.name)
    _set(other, "address", f"tcp://{LOOPBACK}:{peer.sync_port}")
    root.insert(list(root).index(myself) + 1, other)
    folder = ET.fromstring(ET.tostring(root.find("defaults/folder")))
    folder.attrib.update(id=FOLDER_ID, label="circle", path=str(me.folder), type="sendreceive",
                         rescanIntervalS="5", fsWatcherEnabled="true", fsWatcherDelayS="1")
    for old in folder.findall("device"):
        folder.remove(old)
    for device in (me, peer):
        ET.SubElement(folder, "device", id=device.device_id, introducedBy="")
    root.insert(0, folder)
    tree.write(path)


def _start(binary: str, st: Syncthing) -> None:
    with open(st.log, "w") as log:
        st.proc = subprocess.Popen(
            [binary, "serve", f"--home={st.home}", "--no-browser", "--no-restart", "--no-upgrade",
             "--no-default-folder", f"--gui-address=http://{LOOPBACK}:{st.gui_port}", "--logfile=-"],
            env=_syncthing_env(st.home), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one at teardown
        )


def _stop(st: Syncthing) -> None:
    if st.proc is None or st.proc.poll() is not None:
        return
    os.killpg(st.proc.pid, signal.SIGTERM)
    try:
        st.proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(st.proc.pid, signal.SIGKILL)
        st.proc.wait(5)


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


IPV6_LOOPBACK = ("00000000000000000000000001000000",)  # ::1 as /proc/net/tcp6 spells it


def _is_loopback(hex_address: str) -> bool:
    host = hex_address.partition(":")[0]
    if len(host) == 8:  # IPv4, little-endian: 127.x.x.x ends in 7F
        return host.endswith("7F")
    return host in IPV6_LOOPBACK or host.startswith("0000000000000000FFFF0000") and host.endswith("7F")


def ip_sockets(pid: int) -> list[tuple[str, str, str]]:
    """(table, local, remote) for every IP socket `pid` holds, as /proc/net spells them."""
    inodes = _socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                found.append((table, fields[1], fields[2]))
    return found


def assert_loopback_only(st: Syncthing) -> None:
    """Every socket is bound to loopback and connected (if at all) to loopback, and
    the check sees the sync listener, so it is looking at the right process."""
    sockets = ip_sockets(st.proc.pid)
    bad = [s for s in sockets
           if not (_is_loopback(s[1]) and (set(s[2].partition(":")[0]) == {"0"} or _is_loopback(s[2])))]
    assert not bad, f"syncthing {st.name} used addresses beyond 127.0.0.1: {bad}"
    assert any(s[1].endswith(f":{st.sync_port:04X}") for s in sockets), \
        f"syncthing {st.name}'s listener on port {st.sync_port} is not among its sockets {sockets}"


def _find_syncthing() -> str:
    binary = shutil.which("syncthing")
    if binary is None:
        reason = ("syncthing not installed: the real-carrier test needs the `syncthing` binary on PATH "
                  "(scripts/test installs it with apt-get; or run `apt-get install -y syncthing`)")
        warnings.warn(reason, stacklevel=2)
        print(f"WARNING: {reason}")
        pytest.skip(reason)
    return binary


@pytest.fixture
def carrier(tmp_path: Path) -> Iterator[Carrier]:
    """Two connected Syncthing instances sharing FOLDER_ID, idle and ready."""
    binary = _find_syncthing()
    ana, ben = _generate(binary, "ana", tmp_path), _generate(binary, "ben", tmp_path)
    _configure(ana, ben)
    _configure(ben, ana)
    pair = Carrier(ana, ben)
    try:
        for st in (ana, ben):
            _start(binary, st)
        for st in (ana, ben):
            pair.wait(st.answers, f"syncthing {st.name} to answer on its REST port", STARTUP_SECONDS)
        pair.wait(lambda: ana.connected_to(ben) and ben.connected_to(ana), "the two instances to connect",
                  STARTUP_SECONDS)
        pair.wait(lambda: ana.folder_state() == ben.folder_state() == "idle", "the shared folder to be idle",
                  STARTUP_SECONDS)
        yield pair
        for st in (ana, ben):
            assert_loopback_only(st)
    finally:
        for st in (ana, ben):
            _stop(st)


@pytest.fixture
def members(tmp_path: Path, serve) -> tuple[Cli, Cli, str]:
    """Ana's circle, which Ben joined over TCP (the only way in); the server is then
    stopped, so everything afterwards travels through the folders."""
    ana, ben = new_profiles(tmp_path, "Ana", "Ben")
    circle = ana.ok("new", "Walkers").stdout.strip()
    served = serve(ana)
    code = ana.ok("invite", circle, "--uses", "1", "--peer", served.address).stdout.strip()
    assert ben.ok("join", code).stdout.strip() == circle
    served.proc.send_signal(signal.SIGTERM)
    served.proc.wait(10)
    return ana, ben, circle


def folder_sync(cli: Cli, st: Syncthing) -> dict:
    return cli.ok("sync", "--folder", str(st.folder), "--json").json()


def test_a_post_and_its_reply_cross_two_real_syncthing_instances(carrier: Carrier, members):
    ana, ben, circle = members
    post = ana.ok("post", circle, "carried by Syncthing").stdout.strip()
    before = carrier.ana.bundles()
    assert folder_sync(ana, carrier.ana)["written"] >= 1
    carrier.delivered(carrier.ana.bundles() - before, to=carrier.ben)
    folder_sync(ben, carrier.ben)
    assert posts_of(ben, circle).get(post) == "carried by Syncthing"

    reply = ben.ok("post", circle, "and back again", "--reply-to", post).stdout.strip()
    before = carrier.ben.bundles()
    assert folder_sync(ben, carrier.ben)["written"] >= 1
    carrier.delivered(carrier.ben.bundles() - before, to=carrier.ana)
    folder_sync(ana, carrier.ana)
    records = {p["id"]: p for p in ana.ok("feed", circle, "--json").json()}
    assert records[reply]["body"] == "and back again"
    assert records[reply]["reply_to"] == post
    assert records[reply]["author"] == "Ben"


def test_bundles_that_syncthing_delivers_newest_first_are_all_applied(carrier: Carrier, members, tmp_path):
    """Ana writes each post's bundles into a private staging folder, then puts them
    into the shared folder newest first; Ben syncs after each arrival."""
    ana, ben, circle = members
    staging = tmp_path / "staging"
    staging.mkdir()
    bodies, batches = [], []
    for n in range(3):
        bodies.append(f"walk {n}")
        ana.ok("post", circle, bodies[-1])
        before = set(BundleFolder(staging).names())
        ana.ok("sync", "--folder", str(staging))
        # The first sync to a folder also writes the log sealed to Ben alone.
        batches.append(set(BundleFolder(staging).names()) - before)
        assert batches[-1], f"the sync after {bodies[-1]!r} wrote nothing"
    for batch in reversed(batches):
        for name in batch:
            part = carrier.ana.folder / f".{name}.part"
            shutil.copyfile(staging / name, part)
            os.replace(part, carrier.ana.folder / name)
        carrier.delivered(batch, to=carrier.ben)
        folder_sync(ben, carrier.ben)
    assert sorted(posts_of(ben, circle).values()) == bodies
