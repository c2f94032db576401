//! A video whose decoder is not installed: the VP8 decoders are ranked out of reach of
//! decodebin (in this test process only), and the refusal names the format and the Debian
//! package to install.

pub mod common;

use boussole_video::testvideo::SPHERE_360;
use boussole_video::{VideoError, probe};
use gstreamer as gst;
use gstreamer::prelude::*;

#[test]
fn a_missing_decoder_names_the_package_to_install() {
    gst::init().expect("gst");
    let registry = gst::Registry::get();
    for decoder in ["vp8dec", "avdec_vp8"] {
        if let Some(feature) = registry.lookup_feature(decoder) {
            feature.set_rank(gst::Rank::NONE);
        }
    }
    let path = common::shipped(SPHERE_360.name);
    let err = probe(&path).expect_err("no VP8 decoder left");
    let VideoError::NoDecoder { codec, package, .. } = &err else {
        panic!("expected NoDecoder, got {err:?}");
    };
    assert_eq!(codec, "video/x-vp8");
    assert_eq!(*package, "gstreamer1.0-plugins-good");
    let message = err.to_string();
    assert!(message.contains("aucun décodeur"), "{message}");
    assert!(message.contains(SPHERE_360.name), "{message}");
}
