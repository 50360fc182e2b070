//! Home Assistant discovery for `lookout run`: every running camera declared at start and after
//! each reload, removed cameras withdrawn (see [`crate::homeassistant`]).

use std::collections::BTreeMap;

use super::camera::Camera;
use super::Shared;
use crate::config::Config;
use crate::homeassistant::{camera_entities, Discovery};

/// The discovery publisher of this daemon.
pub(super) fn of<'a>(shared: &Shared, config: &'a Config) -> Discovery<'a> {
    Discovery {
        config: &config.homeassistant,
        device: config.homeassistant.device_info(
            &shared.device,
            &shared.topics,
            &config.admin.listen,
        ),
    }
}

/// Declares every camera's entities (a no-op unless `[homeassistant] enabled` and MQTT is on).
pub(super) fn announce(shared: &Shared, config: &Config, cameras: &BTreeMap<String, Camera>) {
    let (Some(m), true) = (&shared.mqtt, config.homeassistant.enabled) else {
        return;
    };
    let ha = of(shared, config);
    for (name, cam) in cameras {
        // With snapshots on MQTT (`[snapshots] mqtt_interval_s` > 0) an image entity shows the
        // retained `<root>/<camera>/snapshot`.
        let snapshot =
            (config.snapshots.mqtt_interval_s > 0.0).then(|| shared.topics.camera(name).snapshot());
        let entities = camera_entities(
            name,
            &cam.detector.classes,
            cam.kept.tracking.as_deref(),
            snapshot,
            true,
        );
        ha.announce(m, &entities);
    }
}

/// Removes the entities of cameras no longer configured.
pub(super) fn withdraw(shared: &Shared, config: &Config, gone: &[String]) {
    let (Some(m), true) = (&shared.mqtt, config.homeassistant.enabled) else {
        return;
    };
    let ha = of(shared, config);
    for name in gone {
        ha.withdraw(m, name);
    }
}
