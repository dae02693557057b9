"""A fake ``org.bluez`` on a private bus: just enough BlueZ for bleak's unmodified Linux backend.

Objects, as bluetoothd lays them out (bleak derives the device and the handles from the paths)::

    /org/bluez/hci0                                   org.bluez.Adapter1
    /org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF             org.bluez.Device1
    /org/bluez/hci0/dev_…/service000a                 org.bluez.GattService1
    /org/bluez/hci0/dev_…/service000a/char000b        org.bluez.GattCharacteristic1

dbus-fast supplies ``org.freedesktop.DBus.ObjectManager`` (``GetManagedObjects``,
``InterfacesAdded``/``InterfacesRemoved``) and ``PropertiesChanged``. A notification is a
``PropertiesChanged`` of a characteristic's ``Value`` (bleak uses ``StartNotify``).

What a device does is up to its :class:`Peripheral` (see :mod:`tests.fakebluez.sensors`): the fake
calls its hooks on connect, subscribe, write and disconnect and hands it a :class:`Link` to send
notifications or drop the connection. Devices appear when discovery first sees them advertise, and
every advertising device sends an RSSI update each ``adv_interval_s`` while discovery runs (bleak's
scanner reports only devices that change after it started).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from dbus_fast import BusType, DBusError, NameFlag, RequestNameReply, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

__all__ = ["ADAPTER_PATH", "CharSpec", "FakeBluez", "Link", "Peripheral", "ServiceSpec"]

BLUEZ = "org.bluez"
ADAPTER_PATH = "/org/bluez/hci0"
ADAPTER_ADDRESS = "00:1A:7D:DA:71:13"

DBusStrList = Annotated[list[str], DBusSignature("as")]
DBusPathList = Annotated[list[str], DBusSignature("ao")]
DBusManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]

_FAILED = "org.bluez.Error.Failed"


@dataclass(frozen=True)
class CharSpec:
    """One characteristic: UUID and BlueZ flags (``read``, ``write``, ``notify``, …)."""

    uuid: str
    flags: tuple[str, ...]
    value: bytes = b""


@dataclass(frozen=True)
class ServiceSpec:
    uuid: str
    chars: tuple[CharSpec, ...]


@dataclass
class Peripheral:
    """A remote device. Subclasses override the ``on_*`` hooks; all run on the fake's loop."""

    address: str
    name: str | None
    advertised_uuids: tuple[str, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    rssi_dbm: int = -60
    #: advertising and accepting connections (an unexpected disconnect may clear it for a while)
    present: bool = True
    #: ``Connect`` never answers (until the client gives up and calls ``Disconnect``)
    connect_hangs: bool = False
    connect_delay_s: float = 0.02
    link: Link | None = field(default=None, repr=False)

    # hooks -----------------------------------------------------------------------------------
    def on_connected(self, link: Link) -> None:
        """The central connected; ``link`` sends notifications until it is dropped."""

    def on_disconnected(self, *, by_central: bool) -> None:
        """The link is gone (``by_central``: the central asked for it)."""

    def on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        """Notifications on ``char_uuid`` were switched on or off."""

    def on_write(self, char_uuid: str, data: bytes, *, with_response: bool) -> None:
        """The central wrote ``data`` to ``char_uuid``."""

    def on_read(self, char_uuid: str) -> bytes | None:
        """Answer a read (``None``: the characteristic's stored value)."""
        return None

    async def shutdown(self) -> None:
        """The fake is stopping: end any background tasks."""


class Link:
    """A live connection, as seen by the peripheral."""

    def __init__(self, device: _DeviceObject) -> None:
        self._device = device
        self.connected = True

    def is_notifying(self, char_uuid: str) -> bool:
        char = self._device.char_by_uuid(char_uuid)
        return self.connected and char is not None and char.notifying

    def notify(self, char_uuid: str, data: bytes) -> bool:
        """Send one notification; ``False`` (nothing sent) when not connected or not subscribed."""
        char = self._device.char_by_uuid(char_uuid)
        if not self.connected or char is None or not char.notifying:
            return False
        char.set_value(data)
        return True

    def drop(self) -> None:
        """An unexpected disconnect (supervision timeout: the body shadowed the sensor)."""
        if self.connected:
            self._device.disconnect(by_central=False)


# --- D-Bus interfaces ------------------------------------------------------------------------


class _Adapter(ServiceInterface):
    def __init__(self, fake: FakeBluez) -> None:
        super().__init__("org.bluez.Adapter1")
        self._fake = fake
        self.discovering = False

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return ADAPTER_ADDRESS

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return "fakebluez"

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return "fakebluez"

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> DBusBool:
        return self._fake.powered

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> DBusBool:
        return self.discovering

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> DBusStrList:
        return ["central", "peripheral"]

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> DBusStrList:
        return []

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict):
        self._fake.discovery_filters.append(dict(properties))

    @dbus_method()
    def StartDiscovery(self):
        self._fake.start_discovery()

    @dbus_method()
    def StopDiscovery(self):
        if not self._fake.stop_discovery():
            raise DBusError(_FAILED, "No discovery started")

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath):
        self._fake.remove_device(device)


class _Device1(ServiceInterface):
    def __init__(self, obj: _DeviceObject) -> None:
        super().__init__("org.bluez.Device1")
        self._obj = obj

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self._obj.peripheral.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "random"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self._obj.peripheral.name or ""

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        p = self._obj.peripheral
        return p.name or p.address.replace(":", "-")

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> DBusObjectPath:
        return ADAPTER_PATH

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Trusted(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def LegacyPairing(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> DBusBool:
        return self._obj.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> DBusBool:
        return self._obj.services_resolved

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> DBusInt16:
        return self._obj.rssi

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> DBusStrList:
        return list(self._obj.peripheral.advertised_uuids)

    @dbus_property(access=PropertyAccess.READ)
    def ManufacturerData(self) -> DBusManufacturerData:
        return {k: Variant("ay", v) for k, v in self._obj.peripheral.manufacturer_data.items()}

    @dbus_method()
    async def Connect(self):
        await self._obj.connect()

    @dbus_method()
    async def Disconnect(self):
        self._obj.cancel_connect()
        self._obj.disconnect(by_central=True)

    @dbus_method()
    def Pair(self):
        raise DBusError("org.bluez.Error.NotSupported", "pairing is not supported by the fake")


class _GattService1(ServiceInterface):
    def __init__(self, uuid: str, device_path: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid
        self._device_path = device_path

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> DBusObjectPath:
        return self._device_path

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Includes(self) -> DBusPathList:
        return []


class _GattCharacteristic1(ServiceInterface):
    def __init__(self, obj: _DeviceObject, spec: CharSpec, service_path: str) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._obj = obj
        self._spec = spec
        self._service_path = service_path
        self.value = spec.value
        self.notifying = False

    def set_value(self, data: bytes) -> None:
        self.value = data
        self.emit_properties_changed({"Value": data})

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self._spec.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self._service_path

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> DBusStrList:
        return list(self._spec.flags)

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> DBusUInt16:
        return 247

    def _check_connected(self) -> None:
        if not self._obj.connected:
            raise DBusError(_FAILED, "Not connected")

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        self._check_connected()
        if "read" not in self._spec.flags:
            raise DBusError("org.bluez.Error.NotPermitted", "Read not permitted")
        answer = self._obj.peripheral.on_read(self._spec.uuid)
        return self.value if answer is None else answer

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict):
        self._check_connected()
        kind = options.get("type")
        with_response = kind is None or kind.value == "request"
        if not {"write", "write-without-response"} & set(self._spec.flags):
            raise DBusError("org.bluez.Error.NotPermitted", "Write not permitted")
        self._obj.written.append((self._spec.uuid, bytes(value)))
        self._obj.peripheral.on_write(self._spec.uuid, bytes(value), with_response=with_response)

    @dbus_method()
    def StartNotify(self):
        self._check_connected()
        if not {"notify", "indicate"} & set(self._spec.flags):
            raise DBusError("org.bluez.Error.NotSupported", "Operation is not supported")
        if not self.notifying:
            self.notifying = True
            self.emit_properties_changed({"Notifying": True})
            self._obj.peripheral.on_subscribe(self._spec.uuid, True)

    @dbus_method()
    def StopNotify(self):
        if self.notifying:
            self.notifying = False
            self.emit_properties_changed({"Notifying": False})
            self._obj.peripheral.on_subscribe(self._spec.uuid, False)


# --- objects ---------------------------------------------------------------------------------


class _DeviceObject:
    """One ``Device1`` and, while connected, its GATT objects."""

    def __init__(self, fake: FakeBluez, peripheral: Peripheral) -> None:
        self.fake = fake
        self.peripheral = peripheral
        self.path = f"{ADAPTER_PATH}/dev_{peripheral.address.upper().replace(':', '_')}"
        self.iface = _Device1(self)
        self.connected = False
        self.services_resolved = False
        self.rssi = peripheral.rssi_dbm
        self.exported = False
        self.written: list[tuple[str, bytes]] = []
        self.connect_count = 0
        self._gatt: list[tuple[str, ServiceInterface]] = []
        self._chars: dict[str, _GattCharacteristic1] = {}
        self._pending_connect: asyncio.Future[None] | None = None

    def char_by_uuid(self, uuid: str) -> _GattCharacteristic1 | None:
        return self._chars.get(uuid.lower())

    def export(self) -> None:
        if not self.exported:
            self.fake.bus.export(self.path, self.iface)
            self.exported = True

    def advertise(self) -> None:
        """One advertisement seen by a discovering adapter: an RSSI update."""
        self.rssi = self.peripheral.rssi_dbm + self.fake.rng.randint(-4, 4)
        self.iface.emit_properties_changed({"RSSI": self.rssi})

    async def connect(self) -> None:
        p = self.peripheral
        if self.connected:
            raise DBusError("org.bluez.Error.AlreadyConnected", "Already Connected")
        if not p.present:
            await asyncio.sleep(0.2)
            raise DBusError(_FAILED, "Page Timeout")
        loop = asyncio.get_running_loop()
        self._pending_connect = pending = loop.create_future()
        try:
            if p.connect_hangs:
                await pending  # resolved (cancelled) only by Disconnect or the fake stopping
            await asyncio.sleep(p.connect_delay_s)
        except asyncio.CancelledError:
            raise DBusError("org.bluez.Error.Failed", "Operation cancelled") from None
        finally:
            self._pending_connect = None
        self.connect_count += 1
        self.connected = True
        self.iface.emit_properties_changed({"Connected": True})
        self._export_gatt()
        self.services_resolved = True
        self.iface.emit_properties_changed({"ServicesResolved": True})
        link = Link(self)
        p.link = link
        p.on_connected(link)

    def cancel_connect(self) -> None:
        if self._pending_connect is not None and not self._pending_connect.done():
            self._pending_connect.cancel()

    def disconnect(self, *, by_central: bool) -> None:
        if not self.connected:
            return
        p = self.peripheral
        if p.link is not None:
            p.link.connected = False
            p.link = None
        for char in self._chars.values():
            char.notifying = False
        self.services_resolved = False
        self.iface.emit_properties_changed({"ServicesResolved": False})
        self.connected = False
        self.iface.emit_properties_changed({"Connected": False})
        self._unexport_gatt()
        p.on_disconnected(by_central=by_central)

    def _export_gatt(self) -> None:
        handle = 0x000A
        for service in self.peripheral.services:
            service_path = f"{self.path}/service{handle:04x}"
            s_iface = _GattService1(service.uuid.lower(), self.path)
            self.fake.bus.export(service_path, s_iface)
            self._gatt.append((service_path, s_iface))
            handle += 1
            for spec in service.chars:
                char_path = f"{service_path}/char{handle:04x}"
                c_iface = _GattCharacteristic1(self, spec, service_path)
                self.fake.bus.export(char_path, c_iface)
                self._gatt.append((char_path, c_iface))
                self._chars[spec.uuid.lower()] = c_iface
                handle += 2  # value handle + CCCD, as a real table would
            handle = (handle + 0xF) & ~0xF

    def _unexport_gatt(self) -> None:
        for path, iface in reversed(self._gatt):
            self.fake.bus.unexport(path, iface)
        self._gatt.clear()
        self._chars.clear()


class FakeBluez:
    """The fake ``org.bluez`` service. Use :meth:`start` / :meth:`stop` on one event loop."""

    def __init__(self, bus_address: str, *, adv_interval_s: float = 0.1, seed: int = 1) -> None:
        self.bus_address = bus_address
        self.adv_interval_s = adv_interval_s
        self.rng = random.Random(seed)
        self.powered = True
        self.discovery_filters: list[dict[str, Any]] = []
        self.devices: dict[str, _DeviceObject] = {}  # by upper-case address
        self._bus: MessageBus | None = None
        self._adapter = _Adapter(self)
        self._discovery_sessions = 0
        self._adv_task: asyncio.Task[None] | None = None

    @property
    def bus(self) -> MessageBus:
        assert self._bus is not None, "fake BlueZ is not running"
        return self._bus

    async def start(self, peripherals: Sequence[Peripheral] = ()) -> None:
        bus = MessageBus(bus_address=self.bus_address, bus_type=BusType.SESSION)
        await bus.connect()
        self._bus = bus
        reply = await bus.request_name(BLUEZ, NameFlag.DO_NOT_QUEUE)
        if reply != RequestNameReply.PRIMARY_OWNER:
            bus.disconnect()
            await bus.wait_for_disconnect()
            self._bus = None
            raise RuntimeError(f"could not own {BLUEZ} on {self.bus_address}: {reply}")
        bus.export(ADAPTER_PATH, self._adapter)
        for p in peripherals:
            self.add(p)

    async def stop(self) -> None:
        if self._adv_task is not None:
            self._adv_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._adv_task
            self._adv_task = None
        for obj in self.devices.values():
            obj.cancel_connect()
            if obj.peripheral.link is not None:
                obj.peripheral.link.connected = False
                obj.peripheral.link = None
            obj.peripheral.on_disconnected(by_central=False)
            await obj.peripheral.shutdown()
        if self._bus is not None:
            bus, self._bus = self._bus, None
            bus.disconnect()
            with contextlib.suppress(Exception):
                await bus.wait_for_disconnect()

    def add(self, peripheral: Peripheral) -> None:
        key = peripheral.address.upper()
        if key in self.devices:
            raise ValueError(f"duplicate address {peripheral.address}")
        self.devices[key] = _DeviceObject(self, peripheral)

    def device(self, address: str) -> _DeviceObject:
        return self.devices[address.upper()]

    # discovery --------------------------------------------------------------------------------
    def start_discovery(self) -> None:
        self._discovery_sessions += 1
        if self._adv_task is None:
            self._adapter.discovering = True
            self._adapter.emit_properties_changed({"Discovering": True})
            self._adv_task = asyncio.get_running_loop().create_task(self._advertise_loop())

    def stop_discovery(self) -> bool:
        if self._discovery_sessions == 0:
            return False
        self._discovery_sessions -= 1
        if self._discovery_sessions == 0 and self._adv_task is not None:
            self._adv_task.cancel()
            self._adv_task = None
            self._adapter.discovering = False
            self._adapter.emit_properties_changed({"Discovering": False})
        return True

    def remove_device(self, path: str) -> None:
        for obj in self.devices.values():
            if obj.path == path and obj.exported:
                obj.disconnect(by_central=True)
                self.bus.unexport(obj.path, obj.iface)
                obj.exported = False
                return
        raise DBusError("org.bluez.Error.DoesNotExist", "Does Not Exist")

    async def _advertise_loop(self) -> None:
        while True:
            for obj in self.devices.values():
                if obj.peripheral.present and not obj.connected:
                    if obj.exported:
                        obj.advertise()
                    else:
                        obj.export()  # first sighting: InterfacesAdded with the advert data
            await asyncio.sleep(self.adv_interval_s)
