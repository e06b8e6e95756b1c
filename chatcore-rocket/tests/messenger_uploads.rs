//! API.md Part 2, Media and the upload rules: images uploaded, served to
//! members only, re-encoded without metadata; every kind of bad upload
//! refused with its status, leaving no file in the upload directory or in
//! Rocket's temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::messenger::{
    contains, files_below, jpeg, jpeg_with_gps, multipart, noise_png, png, png_header, Part,
    EXIF_MARKER,
};
use common::{assert_error, Db, Options, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const MIB: usize = 1024 * 1024;

struct Dirs {
    uploads: tempfile::TempDir,
    temp: tempfile::TempDir,
}

async fn server_with_dirs(db: Db) -> Option<(TestServer, Dirs)> {
    let dirs = Dirs {
        uploads: tempfile::tempdir().unwrap(),
        temp: tempfile::tempdir().unwrap(),
    };
    let server = TestServer::try_with(Options {
        uploads: Some(dirs.uploads.path().to_owned()),
        temp_dir: Some(dirs.temp.path().to_owned()),
        ..Options::on(db)
    })
    .await?;
    Some((server, dirs))
}

async fn images_are_uploaded_and_served_to_members_only(db: Db) {
    let Some((server, dirs)) = server_with_dirs(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let bob = server.member("bob", None).await;
    let carol = server.member("carol", None).await;

    let media = server.upload_image(&alice.token, png(40, 30)).await;
    let mut keys: Vec<&str> = media
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["bytes", "content_type", "height", "id", "width"]);
    assert_eq!(media["content_type"], "image/png");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(40), Some(30))
    );
    let id = media["id"].as_str().unwrap().to_owned();
    assert_eq!(files_below(&dirs.uploads.path().join("images")).len(), 1);

    // The uploader sees it.
    let served = server
        .get(&format!("/media/{id}"), Some(&alice.token))
        .await;
    assert_eq!(served.status(), StatusCode::OK);
    let headers = served.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "sandbox");
    assert_eq!(headers["cache-control"], "private");
    let bytes = served.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, media["bytes"].as_u64().unwrap());
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (40, 30));

    // Nobody else, until it is sent to a conversation they are in.
    assert_error(
        server.get(&format!("/media/{id}"), Some(&bob.token)).await,
        404,
        "not_found",
    )
    .await;
    let (_, conversation) = server
        .conversation(&alice.token, json!({"member_ids": [bob.id]}))
        .await;
    let conversation = conversation["id"].as_str().unwrap();
    let (status, message) = server
        .say(&alice.token, conversation, json!({"image_id": id}))
        .await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["text"], "");
    assert_eq!(message["image"], media);
    let served = server.get(&format!("/media/{id}"), Some(&bob.token)).await;
    assert_eq!(served.status(), StatusCode::OK);
    for token in [&carol.token] {
        let response = server.get(&format!("/media/{id}"), Some(token)).await;
        assert_error(response, 404, "not_found").await;
    }
    for path in [
        "/media/not-a-uuid".to_owned(),
        format!("/media/{}", uuid::Uuid::now_v7()),
    ] {
        assert_error(
            server.get(&path, Some(&alice.token)).await,
            404,
            "not_found",
        )
        .await;
    }
    assert_error(
        server.get(&format!("/media/{id}"), None).await,
        401,
        "unauthorized",
    )
    .await;

    // Only its uploader may attach it.
    let (_, with_carol) = server
        .conversation(&bob.token, json!({"member_ids": [carol.id]}))
        .await;
    let (status, body) = server
        .say(
            &bob.token,
            with_carol["id"].as_str().unwrap(),
            json!({"image_id": id, "text": "look"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["image_id"].is_string(), "{body}");
    let response = server
        .get(&format!("/media/{id}"), Some(&carol.token))
        .await;
    assert_error(response, 404, "not_found").await;
    assert_eq!(files_below(dirs.temp.path()), Vec::<String>::new());
}

async fn exif_and_gps_never_reach_the_served_bytes(db: Db) {
    let Some((server, _dirs)) = server_with_dirs(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let upload = jpeg_with_gps(64, 48);
    assert!(contains(&upload, EXIF_MARKER) && contains(&upload, b"Exif\0\0"));
    assert!(
        image::load_from_memory(&upload).is_ok(),
        "the test image is valid"
    );

    let media = server.upload_image(&alice.token, upload.clone()).await;
    assert_eq!(media["content_type"], "image/jpeg");
    let id = media["id"].as_str().unwrap();
    let served = server
        .get(&format!("/media/{id}"), Some(&alice.token))
        .await;
    let bytes = served.bytes().await.unwrap();
    assert!(!contains(&bytes, EXIF_MARKER), "EXIF text survived");
    assert!(!contains(&bytes, b"Exif\0\0"), "an EXIF segment survived");
    assert!(!contains(&bytes, &[0xFF, 0xE1]), "an APP1 segment survived");
    assert!(image::load_from_memory(&bytes).is_ok());

    let part = Part::file(upload, "me.jpg", "image/jpeg");
    let response = server
        .upload(Method::PUT, "/auth/me/avatar", Some(&alice.token), &[part])
        .await;
    let user: Value = response.json().await.unwrap();
    let url = user["avatar_url"].as_str().unwrap();
    let bytes = server.get(url, None).await.bytes().await.unwrap();
    assert!(!contains(&bytes, EXIF_MARKER) && !contains(&bytes, b"Exif\0\0"));
}

/// A bad upload, the status and code it gets.
struct Bad {
    what: &'static str,
    parts: Vec<Part>,
    status: u16,
    code: &'static str,
}

fn bad_uploads(limit: usize) -> Vec<Bad> {
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec();
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#.to_vec();
    let truncated = {
        let whole = jpeg(64, 64);
        whole[..whole.len() / 2].to_vec()
    };
    let mut over = png(4, 4);
    over.resize(limit + 1, 0);
    vec![
        Bad {
            what: "HTML declared as image/png",
            parts: vec![Part::file(html.clone(), "cat.png", "image/png")],
            status: 415,
            code: "unsupported_media_type",
        },
        Bad {
            what: "HTML as a plain text part",
            parts: vec![Part::text("file", std::str::from_utf8(&html).unwrap())],
            status: 415,
            code: "unsupported_media_type",
        },
        Bad {
            what: "SVG",
            parts: vec![Part::file(svg, "cat.svg", "image/svg+xml")],
            status: 415,
            code: "unsupported_media_type",
        },
        Bad {
            what: "a PNG header claiming 50000 x 50000",
            parts: vec![Part::file(
                png_header(50_000, 50_000),
                "big.png",
                "image/png",
            )],
            status: 422,
            code: "validation_error",
        },
        Bad {
            what: "a truncated JPEG",
            parts: vec![Part::file(truncated, "half.jpg", "image/jpeg")],
            status: 422,
            code: "validation_error",
        },
        Bad {
            what: "one byte over the limit",
            parts: vec![Part::file(over, "over.png", "image/png")],
            status: 413,
            code: "payload_too_large",
        },
        Bad {
            what: "no file part",
            parts: vec![Part::text("caption", "hello")],
            status: 422,
            code: "validation_error",
        },
        Bad {
            what: "a file under another name",
            parts: vec![Part {
                name: "image",
                ..Part::file(png(4, 4), "a.png", "image/png")
            }],
            status: 422,
            code: "validation_error",
        },
        Bad {
            what: "two files",
            parts: vec![
                Part::file(png(4, 4), "a.png", "image/png"),
                Part::file(png(4, 4), "b.png", "image/png"),
            ],
            status: 422,
            code: "validation_error",
        },
        Bad {
            what: "a file and another file under another name",
            parts: vec![
                Part::file(png(4, 4), "a.png", "image/png"),
                Part {
                    name: "other",
                    ..Part::file(png(4, 4), "b.png", "image/png")
                },
            ],
            status: 422,
            code: "validation_error",
        },
        Bad {
            what: "a good file and a text part besides",
            parts: vec![
                Part::file(png(4, 4), "a.png", "image/png"),
                Part::text("caption", "hello"),
            ],
            status: 422,
            code: "validation_error",
        },
        Bad {
            what: "an empty file",
            parts: vec![Part::file(Vec::new(), "empty.png", "image/png")],
            status: 415,
            code: "unsupported_media_type",
        },
    ]
}

async fn bad_uploads_are_refused_and_leave_no_file_behind(db: Db) {
    let Some((server, dirs)) = server_with_dirs(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    for (method, path, limit) in [
        (Method::PUT, "/auth/me/avatar", 2 * MIB),
        (Method::POST, "/media", 5 * MIB),
    ] {
        for bad in bad_uploads(limit) {
            let response = server
                .upload(method.clone(), path, Some(&alice.token), &bad.parts)
                .await;
            let body = assert_error(response, bad.status, bad.code).await;
            if bad.status == 422 {
                assert!(
                    body["error"]["fields"]["file"].is_string(),
                    "{}: {body}",
                    bad.what
                );
            }
            assert_eq!(
                files_below(dirs.uploads.path()),
                Vec::<String>::new(),
                "{path}, {}: a file was left in the upload directory",
                bad.what
            );
            assert_eq!(
                files_below(dirs.temp.path()),
                Vec::<String>::new(),
                "{path}, {}: a temporary file was left",
                bad.what
            );
        }
        // Not multipart at all.
        let response = server
            .request(method.clone(), path, Some(&alice.token))
            .header("content-type", "image/png")
            .body(png(4, 4))
            .send()
            .await
            .unwrap();
        assert_error(response, 415, "unsupported_media_type").await;
        let response = server
            .request(method.clone(), path, Some(&alice.token))
            .json(&json!({"file": "x"}))
            .send()
            .await
            .unwrap();
        assert_error(response, 415, "unsupported_media_type").await;
        // A broken multipart body.
        let (content_type, body) = multipart(&[Part::file(png(4, 4), "a.png", "image/png")]);
        let response = server
            .request(method.clone(), path, Some(&alice.token))
            .header("content-type", content_type)
            .body(body[..body.len() - 30].to_vec())
            .send()
            .await
            .unwrap();
        assert!(
            [400, 422].contains(&response.status().as_u16()),
            "{}",
            response.status()
        );
        assert_error(
            server
                .upload(
                    method.clone(),
                    path,
                    None,
                    &[Part::file(png(4, 4), "a.png", "image/png")],
                )
                .await,
            401,
            "unauthorized",
        )
        .await;
    }
    assert_eq!(files_below(dirs.uploads.path()), Vec::<String>::new());
    assert_eq!(files_below(dirs.temp.path()), Vec::<String>::new());
    assert_eq!(
        server.get_json("/auth/me", &alice.token).await["avatar_url"],
        Value::Null
    );

    // After all that, a good avatar is taken (and only its file is kept).
    let part = Part::file(jpeg(1200, 1200), "a.jpg", "image/jpeg");
    assert!(part.bytes.len() < 2 * MIB);
    let response = server
        .upload(Method::PUT, "/auth/me/avatar", Some(&alice.token), &[part])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(files_below(dirs.uploads.path()).len(), 1);
    assert_eq!(files_below(dirs.temp.path()), Vec::<String>::new());
}

async fn the_image_limit_is_configurable(db: Db) {
    let Some(server) = TestServer::try_with(Options {
        media_max_bytes: Some(1000),
        ..Options::on(db)
    })
    .await
    else {
        return;
    };
    let alice = server.member("alice", None).await;
    let small = png(4, 4);
    assert!(small.len() < 1000);
    server.upload_image(&alice.token, small).await;
    let mut big = png(4, 4);
    big.resize(1001, 0);
    let response = server
        .upload(
            Method::POST,
            "/media",
            Some(&alice.token),
            &[Part::file(big, "b.png", "image/png")],
        )
        .await;
    assert_error(response, 413, "payload_too_large").await;
}

async fn images_between_the_avatar_and_the_image_limits(db: Db) {
    let Some((server, dirs)) = server_with_dirs(db).await else {
        return;
    };
    let alice = server.member("alice", None).await;
    let big = noise_png(1000, 1000);
    assert!((2 * MIB..5 * MIB).contains(&big.len()), "{}", big.len());
    // Too big for an avatar ...
    let part = Part::file(big.clone(), "big.png", "image/png");
    let response = server
        .upload(Method::PUT, "/auth/me/avatar", Some(&alice.token), &[part])
        .await;
    assert_error(response, 413, "payload_too_large").await;
    assert_eq!(files_below(dirs.uploads.path()), Vec::<String>::new());
    // ... fine for an image (Rocket's 2 MiB `data-form` default was raised).
    let media = server.upload_image(&alice.token, big).await;
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(1000), Some(1000))
    );
    assert_eq!(files_below(dirs.uploads.path()).len(), 1);
    assert_eq!(files_below(dirs.temp.path()), Vec::<String>::new());
}

on_every_store!(
    images_are_uploaded_and_served_to_members_only,
    exif_and_gps_never_reach_the_served_bytes,
    bad_uploads_are_refused_and_leave_no_file_behind,
    the_image_limit_is_configurable,
    images_between_the_avatar_and_the_image_limits,
);
