//! The API handle never shows its secret or a token in `Debug`, before or after a call.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

const SECRET: &str = "handle-secret-that-must-never-be-shown-0123456789";

fn assert_clean(text: &str) {
    assert!(!text.contains(SECRET), "the API secret is shown: {text}");
    assert!(!text.contains("eyJ"), "a token is shown: {text}");
}

#[test]
fn the_api_handle_redacts_its_credentials() {
    let api = livekit_ureq::LiveKitApi::new("http://127.0.0.1:9", "APIhandle", SECRET).unwrap();
    assert_clean(&format!("{api:?} {api:#?}"));
    // A call that fails to connect has minted (and cached) a service token by then.
    let error = api.room().list_rooms(Default::default()).unwrap_err();
    assert_clean(&format!("{api:?} {error} {error:?}"));
    assert!(format!("{api:?}").contains("APIhandle"), "the key is shown");

    let token = livekit_ureq::auth::AccessToken::new()
        .with_video_grants(livekit_ureq::auth::VideoGrants {
            room_list: true,
            ..Default::default()
        })
        .sign_now(&livekit_ureq::auth::Credentials::new("APIhandle", SECRET).unwrap())
        .unwrap();
    let presigned = livekit_ureq::LiveKitApi::with_token("http://127.0.0.1:9", &token).unwrap();
    assert_clean(&format!("{presigned:?}"));
}
