//! The room as the facilitator set it up (schema v5): which station each device holds per
//! scenario, kept from one day to the next, and the names and roles given to paired devices;
//! and when each person was given the participants' information notice. Schema v6 adds each
//! device's sound (volume, mute, reading aloud) and the room's voices cut.

use super::Store;
use boussole_content::cue::DeviceRole;
use boussole_protocol::wire::SoundSettings;
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeMap;

impl Store {
    /// The stations of `scenario`'s room: device id → station id.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn room_layout(&self, scenario: &str) -> rusqlite::Result<BTreeMap<String, String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT device, station FROM room_layout WHERE scenario = ?1")?;
        let rows = stmt.query_map([scenario], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }

    /// Gives `device` station `station` in `scenario`'s room (`None`: no station any more).
    ///
    /// # Errors
    /// SQLite failed.
    pub fn set_room_station(
        &mut self,
        scenario: &str,
        device: &str,
        station: Option<&str>,
        now_unix_ms: i64,
    ) -> rusqlite::Result<()> {
        match station {
            Some(station) => self.conn.execute(
                "INSERT INTO room_layout (scenario, device, station, updated_at_unix_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (scenario, device) DO UPDATE
                   SET station = excluded.station, updated_at_unix_ms = excluded.updated_at_unix_ms",
                params![scenario, device, station, now_unix_ms],
            )?,
            None => self.conn.execute(
                "DELETE FROM room_layout WHERE scenario = ?1 AND device = ?2",
                params![scenario, device],
            )?,
        };
        Ok(())
    }

    /// Every paired device's name: device id → name.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn device_names(&self) -> rusqlite::Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare("SELECT device, name FROM device_names")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }

    /// Names `device` (`None` forgets its name). The name is 1 to 60 characters (the schema
    /// checks it).
    ///
    /// # Errors
    /// SQLite failed, or the name is empty or too long.
    pub fn set_device_name(
        &mut self,
        device: &str,
        name: Option<&str>,
        now_unix_ms: i64,
    ) -> rusqlite::Result<()> {
        match name {
            Some(name) => self.conn.execute(
                "INSERT INTO device_names (device, name, updated_at_unix_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device) DO UPDATE
                   SET name = excluded.name, updated_at_unix_ms = excluded.updated_at_unix_ms",
                params![device, name, now_unix_ms],
            )?,
            None => self
                .conn
                .execute("DELETE FROM device_names WHERE device = ?1", [device])?,
        };
        Ok(())
    }

    /// Every paired device's role: device id → role. A row whose role this build does not
    /// know is skipped (the schema allows only the three).
    ///
    /// # Errors
    /// SQLite failed.
    pub fn device_roles(&self) -> rusqlite::Result<BTreeMap<String, DeviceRole>> {
        let mut stmt = self.conn.prepare("SELECT device, role FROM device_roles")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (device, role) = row?;
            if let Some(role) = role_of_name(&role) {
                out.insert(device, role);
            }
        }
        Ok(out)
    }

    /// Gives `device` the role `role` (`None` forgets it: the device waits for one again).
    ///
    /// # Errors
    /// SQLite failed.
    pub fn set_device_role(
        &mut self,
        device: &str,
        role: Option<DeviceRole>,
        now_unix_ms: i64,
    ) -> rusqlite::Result<()> {
        match role {
            Some(role) => self.conn.execute(
                "INSERT INTO device_roles (device, role, updated_at_unix_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device) DO UPDATE
                   SET role = excluded.role, updated_at_unix_ms = excluded.updated_at_unix_ms",
                params![device, role_name(role), now_unix_ms],
            )?,
            None => self
                .conn
                .execute("DELETE FROM device_roles WHERE device = ?1", [device])?,
        };
        Ok(())
    }

    /// Records that `person` was given the participants' information notice by `given_by` (a
    /// facilitator's name) now; a second time keeps the first date.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn record_notice(
        &mut self,
        person: &str,
        given_by: &str,
        now_unix_ms: i64,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO information_notices (person, given_at_unix_ms, given_by)
             VALUES (?1, ?2, ?3) ON CONFLICT (person) DO NOTHING",
            params![person, now_unix_ms, given_by],
        )?;
        Ok(())
    }

    /// Who was given the information notice: person id → (when, Unix ms; by whom).
    ///
    /// # Errors
    /// SQLite failed.
    pub fn notices_given(&self) -> rusqlite::Result<BTreeMap<String, (i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT person, given_at_unix_ms, given_by FROM information_notices")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
        rows.collect()
    }
}

impl Store {
    /// Each device's sound as the facilitator set it: device id → settings (a device absent
    /// here plays with its role's defaults, `SoundSettings::default_for`).
    ///
    /// # Errors
    /// SQLite failed.
    pub fn device_sound(&self) -> rusqlite::Result<BTreeMap<String, SoundSettings>> {
        let mut stmt = self
            .conn
            .prepare("SELECT device, volume_percent, muted, read_aloud FROM device_sound")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                SoundSettings {
                    volume_percent: r.get(1)?,
                    muted: r.get(2)?,
                    read_aloud: r.get(3)?,
                },
            ))
        })?;
        rows.collect()
    }

    /// Keeps `settings` as `device`'s sound (a volume above 100 is kept as 100).
    ///
    /// # Errors
    /// SQLite failed.
    pub fn set_device_sound(
        &mut self,
        device: &str,
        settings: SoundSettings,
        now_unix_ms: i64,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO device_sound (device, volume_percent, muted, read_aloud, updated_at_unix_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device) DO UPDATE SET volume_percent = excluded.volume_percent,
               muted = excluded.muted, read_aloud = excluded.read_aloud,
               updated_at_unix_ms = excluded.updated_at_unix_ms",
            params![
                device,
                settings.volume_percent.min(100),
                settings.muted,
                settings.read_aloud,
                now_unix_ms
            ],
        )?;
        Ok(())
    }

    /// Forgets all the room keeps of `device` (unpaired from the console): its stations in
    /// every scenario's layout, its name, its role and its sound, in one transaction. A device
    /// paired again under the same id starts afresh.
    ///
    /// # Errors
    /// SQLite failed (nothing is forgotten).
    pub fn forget_device(&mut self, device: &str) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for table in [
            "room_layout",
            "device_names",
            "device_roles",
            "device_sound",
        ] {
            tx.execute(&format!("DELETE FROM {table} WHERE device = ?1"), [device])?;
        }
        tx.commit()
    }

    /// Whether the facilitator cut the room's voices (« couper les voix »): no device reads
    /// a text aloud on its own until they are back.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn voices_cut(&self) -> rusqlite::Result<bool> {
        let value: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM room_settings WHERE key = 'voices_cut'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(value.as_deref() == Some("1"))
    }

    /// Cuts the room's voices (`true`) or brings them back.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn set_voices_cut(&mut self, cut: bool, now_unix_ms: i64) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO room_settings (key, value, updated_at_unix_ms) VALUES ('voices_cut', ?1, ?2)
             ON CONFLICT (key) DO UPDATE
               SET value = excluded.value, updated_at_unix_ms = excluded.updated_at_unix_ms",
            params![if cut { "1" } else { "0" }, now_unix_ms],
        )?;
        Ok(())
    }
}

/// A role as the `device_roles` table spells it.
fn role_name(role: DeviceRole) -> &'static str {
    match role {
        DeviceRole::Headset => "headset",
        DeviceRole::Screen => "screen",
        DeviceRole::Terminal => "terminal",
    }
}

/// The role a `device_roles` row names.
fn role_of_name(name: &str) -> Option<DeviceRole> {
    match name {
        "headset" => Some(DeviceRole::Headset),
        "screen" => Some(DeviceRole::Screen),
        "terminal" => Some(DeviceRole::Terminal),
        _ => None,
    }
}
