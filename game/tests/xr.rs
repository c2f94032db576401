//! The headset's XR seam headless (`MinimalPlugins`, no runtime): in XR mode the tracking root
//! stands where the logic puts the participant (eyes, snap turns), the mouse feeder is not
//! needed, and a session the runtime refuses turns the headset into a flat fallback that the
//! director hears about once, without stopping the app.

use bevy::camera::visibility::RenderLayers;
use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy_mod_openxr::session::OxrSession;
use bevy_mod_xr::camera::XrCamera;
use bevy_mod_xr::session::{
    XrSessionCreated, XrSessionCreatedMessage, XrState, XrStateChanged, XrTrackingRoot,
};
use boussole_content::cue::DeviceRole;
use boussole_game::content::GameContent;
use boussole_game::headset::pointer::PointerInput;
use boussole_game::headset::state::{HeadsetAction, HeadsetState, Rig};
use boussole_game::net::plugin::Reported;
use boussole_game::third_party::audio::AudioOutput;
use boussole_game::third_party::xr::{HEADSET_ONLY, XR_SESSION_LOST, XrMode};
use boussole_game::{LaunchOptions, plugin};
use boussole_protocol::DeviceEvent;
use std::path::Path;
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A headless headset that believes OpenXR started (as `start_of` says with a runtime).
fn xr_app() -> Result<App, Box<dyn std::error::Error>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let content = GameContent::load(&repo.join("content"), &repo.join("assets"))?;
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, TransformPlugin))
        .add_plugins(plugin(
            DeviceRole::Headset,
            LaunchOptions {
                headless: true,
                ..default()
            },
        ))
        .insert_resource(content)
        .insert_resource(AudioOutput { available: false })
        .insert_resource(XrMode::Headset)
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(
            100,
        )));
    // bevy_mod_xr spawns this with its session plugin.
    app.world_mut().spawn(XrTrackingRoot);
    app.update();
    Ok(app)
}

fn events(app: &App) -> Vec<DeviceEvent> {
    app.world().resource::<Reported>().in_order()
}

fn root(app: &mut App) -> Result<Transform, Box<dyn std::error::Error>> {
    let mut q = app
        .world_mut()
        .query_filtered::<&Transform, With<XrTrackingRoot>>();
    Ok(*q.single(app.world())?)
}

#[test]
fn the_tracking_root_follows_the_rig_through_turns_and_moves() -> TestResult {
    let mut app = xr_app()?;
    let start = root(&mut app)?;
    assert!(
        start
            .translation
            .abs_diff_eq(Vec3::new(0.0, 1.2, 0.0), 1e-5),
        "seated eyes at 1.2 m: {start:?}"
    );
    // A teleport and a snap turn (the tutorial allows turning in the headset).
    app.world_mut()
        .resource_mut::<Messages<HeadsetAction>>()
        .write(HeadsetAction::Start {
            immersion: "tutoriel".into(),
            participant: None,
            started_at_ms: None,
        });
    app.update();
    {
        let mut state = app.world_mut().resource_mut::<HeadsetState>();
        state.eye = Vec3::new(2.0, 1.2, -3.0);
        state.yaw_deg = 90.0;
    }
    app.update();
    let moved = root(&mut app)?;
    assert!(
        moved
            .translation
            .abs_diff_eq(Vec3::new(2.0, 1.2, -3.0), 1e-5),
        "{moved:?}"
    );
    let forward = moved.forward();
    assert!(
        forward.abs_diff_eq(Vec3::NEG_X, 1e-5),
        "yaw 90° faces -X: {forward}"
    );
    let mut rigs = app.world_mut().query_filtered::<&Transform, With<Rig>>();
    assert_eq!(*rigs.single(app.world())?, moved);
    Ok(())
}

#[test]
fn a_refused_session_falls_back_to_flat_and_says_so_once() -> TestResult {
    let mut app = xr_app()?;
    app.update();
    let before = events(&app);
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, DeviceEvent::Problem { .. })),
        "in the headset, no problem: {before:?}"
    );
    assert!(
        before
            .iter()
            .any(|e| matches!(e, DeviceEvent::Health(h) if !h.xr_flat_fallback)),
        "{before:?}"
    );
    // bevy_mod_openxr tells the session was created; no OxrSession means it failed.
    app.world_mut()
        .resource_mut::<Messages<XrSessionCreatedMessage>>()
        .write(XrSessionCreatedMessage);
    for _ in 0..3 {
        app.update();
    }
    assert!(app.world().resource::<XrMode>().is_fallback());
    let after = events(&app);
    let problems: Vec<_> = after
        .iter()
        .filter_map(|e| match e {
            DeviceEvent::Problem { what } => Some(what.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(problems, vec![XR_SESSION_LOST], "{after:?}");
    assert!(
        after
            .iter()
            .any(|e| matches!(e, DeviceEvent::Health(h) if h.xr_flat_fallback)),
        "{after:?}"
    );
    Ok(())
}

/// Stands for bevy_mod_openxr's own session-created systems that need the session.
fn needs_the_session(_: Res<OxrSession>) {}

/// Only the XR seam, built as when OpenXR started.
fn seam_app() -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .init_resource::<PointerInput>()
        .add_message::<HeadsetAction>()
        .insert_resource(XrMode::Headset)
        .add_plugins(boussole_game::third_party::xr::plugin)
        .add_systems(XrSessionCreated, needs_the_session);
    app
}

#[test]
fn the_eyes_see_the_headset_layer_and_the_mirror_does_not() -> TestResult {
    let mut app = seam_app();
    let eye = app.world_mut().spawn(XrCamera(0)).id();
    let mirror = app.world_mut().spawn(Camera3d::default()).id();
    app.update();
    let layers = app
        .world()
        .get::<RenderLayers>(eye)
        .ok_or("the eye has no layers")?;
    assert!(layers.intersects(&RenderLayers::layer(HEADSET_ONLY)));
    assert!(layers.intersects(&RenderLayers::layer(0)), "the scene too");
    assert!(app.world().get::<RenderLayers>(mirror).is_none());
    Ok(())
}

#[test]
fn a_refused_session_does_not_stop_the_app() -> TestResult {
    let mut app = seam_app();
    app.update();
    // What bevy_mod_openxr does when the runtime refuses the session: no `OxrSession`, the
    // session-created schedule and message all the same.
    app.world_mut().run_schedule(XrSessionCreated);
    app.world_mut().write_message(XrSessionCreatedMessage);
    app.update();
    assert_eq!(
        *app.world().resource::<XrMode>(),
        XrMode::Flat {
            fallback: true,
            reason: Some(XR_SESSION_LOST.into())
        }
    );
    Ok(())
}

#[test]
fn the_runtime_closing_the_session_falls_back_but_quitting_does_not() -> TestResult {
    let closing = XrStateChanged(XrState::Exiting {
        should_restart: false,
    });
    // This app quits: the runtime's closing is expected.
    let mut app = xr_app()?;
    app.world_mut().write_message(AppExit::Success);
    app.world_mut().write_message(closing);
    app.update();
    assert_eq!(*app.world().resource::<XrMode>(), XrMode::Headset);
    // The runtime closes it on its own (SteamVR quit, headset lost).
    let mut app = xr_app()?;
    app.world_mut().write_message(closing);
    app.update();
    assert!(app.world().resource::<XrMode>().is_fallback());
    Ok(())
}
