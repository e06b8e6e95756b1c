//! `GET /openapi.json`: an OpenAPI 3.1 document generated from the mounted
//! routes (every route appears, by construction) and the operation table
//! below (summaries, bodies, responses).

use rocket::http::Method;
use serde_json::{json, Map, Value};

use crate::allow::PathMethods;

/// The rendered document, managed by [`crate::Chatcore::attach`].
#[derive(Clone, Debug)]
pub(crate) struct OpenApiDoc(pub(crate) String);

/// One documented operation.
struct Op {
    method: Method,
    path: &'static str,
    summary: &'static str,
    auth: bool,
    body: Option<&'static str>,
    /// (status, description, schema or `sse` / `ws` / none).
    responses: &'static [(u16, &'static str, Option<&'static str>)],
    query: &'static [(&'static str, &'static str)],
}

const ERRORS_AUTH: (u16, &str, Option<&str>) =
    (401, "Missing, invalid or expired token", Some("Error"));
const ERR_422: (u16, &str, Option<&str>) = (422, "Validation error", Some("Error"));
const ERR_400: (u16, &str, Option<&str>) = (400, "Malformed JSON", Some("Error"));
const ERR_404: (u16, &str, Option<&str>) = (
    404,
    "No such session (or not yours, or deleted)",
    Some("Error"),
);
const ERR_409: (u16, &str, Option<&str>) = (
    409,
    "A reply is already running in this session",
    Some("Error"),
);
const ERR_413: (u16, &str, Option<&str>) = (413, "Body over 64 KiB", Some("Error"));
const ERR_429: (u16, &str, Option<&str>) = (429, "Rate limited (see Retry-After)", Some("Error"));

#[rustfmt::skip]
const OPS: &[Op] = &[
    Op { method: Method::Post, path: "/auth/register", summary: "Create an account and sign in", auth: false, body: Some("RegisterBody"),
        responses: &[(201, "Signed in", Some("Token")), ERR_400, (409, "Email or username taken", Some("Error")), ERR_413, ERR_422], query: &[] },
    Op { method: Method::Post, path: "/auth/login", summary: "Sign in with email and password", auth: false, body: Some("LoginBody"),
        responses: &[(200, "Signed in", Some("Token")), ERR_400, (401, "Wrong email or password", Some("Error")), ERR_422, ERR_429], query: &[] },
    Op { method: Method::Get, path: "/auth/me", summary: "The current user", auth: true, body: None,
        responses: &[(200, "The user", Some("User")), ERRORS_AUTH], query: &[] },
    Op { method: Method::Post, path: "/auth/refresh", summary: "A fresh token for a valid one", auth: true, body: None,
        responses: &[(200, "Signed in", Some("Token")), ERRORS_AUTH], query: &[] },
    Op { method: Method::Post, path: "/chat/sessions", summary: "Create a chat session", auth: true, body: Some("CreateSessionBody"),
        responses: &[(201, "The session", Some("Session")), ERR_400, ERRORS_AUTH, ERR_422], query: &[] },
    Op { method: Method::Get, path: "/chat/sessions", summary: "The user's sessions, most recently updated first (Link rel=next when more)", auth: true, body: None,
        responses: &[(200, "A page of sessions", Some("SessionList")), ERRORS_AUTH, ERR_422],
        query: &[("limit", "Page size, 1..=200 (default 50)"), ("cursor", "Opaque cursor from a Link header")] },
    Op { method: Method::Get, path: "/chat/sessions/<session_id>", summary: "A session and its messages", auth: true, body: None,
        responses: &[(200, "Session and messages", Some("SessionWithMessages")), ERRORS_AUTH, ERR_404], query: &[] },
    Op { method: Method::Patch, path: "/chat/sessions/<session_id>", summary: "Rename a session", auth: true, body: Some("RenameBody"),
        responses: &[(200, "The session", Some("Session")), ERR_400, ERRORS_AUTH, ERR_404, ERR_422], query: &[] },
    Op { method: Method::Delete, path: "/chat/sessions/<session_id>", summary: "Soft-delete a session (stops its reply)", auth: true, body: None,
        responses: &[(204, "Deleted", None), ERRORS_AUTH, ERR_404], query: &[] },
    Op { method: Method::Post, path: "/chat/session/<session_id>", summary: "Soft-delete a session (same as DELETE /chat/sessions/{session_id})", auth: true, body: None,
        responses: &[(204, "Deleted", None), ERRORS_AUTH, ERR_404], query: &[] },
    Op { method: Method::Post, path: "/chat/send", summary: "Send a message and wait for the whole reply", auth: true, body: Some("SendBody"),
        responses: &[(200, "Both stored messages", Some("SentReply")), ERR_400, ERRORS_AUTH, ERR_404, ERR_409, ERR_413, ERR_422, ERR_429,
            (502, "Every provider failed (the user message is stored)", Some("Error"))], query: &[] },
    Op { method: Method::Post, path: "/chat/stream", summary: "Send a message and stream the reply (SSE: message, delta..., done | error)", auth: true, body: Some("SendBody"),
        responses: &[(200, "text/event-stream", Some("sse")), ERR_400, ERRORS_AUTH, ERR_404, ERR_409, ERR_413, ERR_422, ERR_429], query: &[] },
    Op { method: Method::Post, path: "/chat/sessions/<session_id>/stop", summary: "Stop the running reply (kept as `stopped`)", auth: true, body: None,
        responses: &[(204, "Stopped", None), ERRORS_AUTH, (404, "No such session, or nothing running", Some("Error"))], query: &[] },
    Op { method: Method::Get, path: "/chat/sessions/<session_id>/stream", summary: "Re-attach to the running reply (SSE: snapshot, delta..., done | error)", auth: true, body: None,
        responses: &[(200, "text/event-stream", Some("sse")), (204, "Nothing is running", None), ERRORS_AUTH, ERR_404], query: &[] },
    Op { method: Method::Get, path: "/health", summary: "Database and provider health", auth: false, body: None,
        responses: &[(200, "Healthy", Some("Health")), (503, "Database unavailable", Some("Health"))], query: &[] },
    Op { method: Method::Get, path: "/openapi.json", summary: "This document", auth: false, body: None,
        responses: &[(200, "OpenAPI 3.1 document", Some("object"))], query: &[] },
    Op { method: Method::Get, path: "/ws", summary: "WebSocket: first frame {\"type\":\"auth\",\"token\"} within 10 s, then JSON frames (see API.md)", auth: false, body: None,
        responses: &[(101, "Switching Protocols (WebSocket)", None), (400, "Not a WebSocket handshake", Some("Error"))], query: &[] },
];

/// `/chat/sessions/<session_id>` -> `/chat/sessions/{session_id}`.
fn openapi_path(base: &str, path: &str) -> String {
    let converted: Vec<String> = path
        .split('/')
        .map(
            |segment| match segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                Some(name) => format!("{{{}}}", name.trim_end_matches("..")),
                None => segment.to_owned(),
            },
        )
        .collect();
    let base = base.trim_end_matches('/');
    format!("{base}{}", converted.join("/"))
}

fn operation(op: Option<&Op>, method: Method, path: &str) -> Value {
    let Some(op) = op else {
        return json!({ "summary": format!("{method} {path}"), "responses": { "default": { "description": "See API.md" } } });
    };
    let mut responses = Map::new();
    for (status, description, schema) in op.responses {
        let mut response = json!({ "description": description });
        match schema {
            Some("sse") => {
                response["content"] =
                    json!({ "text/event-stream": { "schema": { "type": "string" } } });
            }
            Some("object") => {
                response["content"] =
                    json!({ "application/json": { "schema": { "type": "object" } } });
            }
            Some(name) => {
                response["content"] = json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } });
            }
            None => {}
        }
        if *status == 429 {
            response["headers"] = json!({ "Retry-After": { "schema": { "type": "integer" }, "description": "Seconds to wait" } });
        }
        responses.insert(status.to_string(), response);
    }
    let mut value = json!({ "summary": op.summary, "responses": responses });
    let mut parameters: Vec<Value> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('<').and_then(|s| s.strip_suffix('>')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }))
        .collect();
    for (name, description) in op.query {
        let schema = if *name == "limit" {
            json!({ "type": "integer", "minimum": 1, "maximum": 200 })
        } else {
            json!({ "type": "string" })
        };
        parameters.push(json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema }));
    }
    if !parameters.is_empty() {
        value["parameters"] = Value::Array(parameters);
    }
    if op.auth {
        value["security"] = json!([{ "bearer": [] }]);
    }
    if let Some(body) = op.body {
        value["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } } });
    }
    value
}

/// Whether every (method, path) of `groups` has an entry in the operation table.
pub(crate) fn undocumented(groups: &[PathMethods]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.methods.iter().map(move |m| (*m, g.path.as_str())))
        .filter(|(m, p)| !OPS.iter().any(|op| op.method == *m && op.path == *p))
        .map(|(m, p)| format!("{m} {p}"))
        .collect()
}

/// The document for the routes in `groups`, mounted at `base`.
pub(crate) fn document(base: &str, groups: &[PathMethods]) -> Value {
    let mut paths = Map::new();
    for group in groups {
        let mut item = Map::new();
        for method in &group.methods {
            let op = OPS
                .iter()
                .find(|op| op.method == *method && op.path == group.path);
            item.insert(
                method.as_str().to_ascii_lowercase(),
                operation(op, *method, &group.path),
            );
        }
        paths.insert(openapi_path(base, &group.path), Value::Object(item));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "chatcore",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Accounts, chat sessions and LLM replies streamed over SSE and WebSocket. Every error is {\"error\": {\"code\", \"message\", \"fields\"?}}.",
        },
        "paths": paths,
        "components": { "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } }, "schemas": schemas() },
    })
}

fn schemas() -> Value {
    let time = json!({ "type": "string", "format": "date-time" });
    let uuid = json!({ "type": "string", "format": "uuid" });
    json!({
        "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
            "code": { "type": "string" }, "message": { "type": "string" },
            "fields": { "type": "object", "additionalProperties": { "type": "string" } } } } } },
        "User": { "type": "object", "required": ["id", "username", "email", "created_at"], "properties": {
            "id": uuid, "username": { "type": "string" }, "email": { "type": "string", "format": "email" }, "created_at": time } },
        "Token": { "type": "object", "required": ["access_token", "token_type", "expires_at", "user"], "properties": {
            "access_token": { "type": "string" }, "token_type": { "const": "bearer" }, "expires_at": time, "user": { "$ref": "#/components/schemas/User" } } },
        "Session": { "type": "object", "required": ["id", "title", "created_at", "updated_at"], "properties": {
            "id": uuid, "title": { "type": "string" }, "created_at": time, "updated_at": time } },
        "SessionList": { "type": "array", "items": { "$ref": "#/components/schemas/Session" } },
        "Usage": { "type": ["object", "null"], "required": ["prompt_tokens", "completion_tokens"], "properties": {
            "prompt_tokens": { "type": "integer" }, "completion_tokens": { "type": "integer" } } },
        "Message": { "type": "object", "required": ["id", "session_id", "role", "content", "timestamp", "status", "provider", "model", "usage"], "properties": {
            "id": uuid, "session_id": uuid, "role": { "enum": ["user", "assistant"] }, "content": { "type": "string" }, "timestamp": time,
            "status": { "enum": ["complete", "streaming", "stopped", "interrupted", "error"] },
            "provider": { "type": ["string", "null"] }, "model": { "type": ["string", "null"] }, "usage": { "$ref": "#/components/schemas/Usage" } } },
        "SessionWithMessages": { "type": "object", "required": ["session", "messages"], "properties": {
            "session": { "$ref": "#/components/schemas/Session" }, "messages": { "type": "array", "items": { "$ref": "#/components/schemas/Message" } } } },
        "SentReply": { "type": "object", "required": ["user_message", "assistant_message", "provider"], "properties": {
            "user_message": { "$ref": "#/components/schemas/Message" }, "assistant_message": { "$ref": "#/components/schemas/Message" }, "provider": { "type": ["string", "null"] } } },
        "Health": { "type": "object", "required": ["status", "database", "providers"], "properties": {
            "status": { "type": "string" }, "database": { "enum": ["ok", "unavailable"] },
            "providers": { "type": "array", "items": { "type": "object", "required": ["name", "model", "state"], "properties": {
                "name": { "type": "string" }, "model": { "type": "string" }, "state": { "enum": ["ok", "cooling_down"] } } } } } },
        "RegisterBody": { "type": "object", "required": ["email", "password"], "properties": {
            "email": { "type": "string" }, "password": { "type": "string", "minLength": 8, "maxLength": 128 }, "username": { "type": "string", "pattern": "^[A-Za-z0-9_.-]{3,32}$" } } },
        "LoginBody": { "type": "object", "required": ["email", "password"], "properties": { "email": { "type": "string" }, "password": { "type": "string" } } },
        "CreateSessionBody": { "type": "object", "properties": { "title": { "type": "string", "minLength": 1, "maxLength": 200 } } },
        "RenameBody": { "type": "object", "required": ["title"], "properties": { "title": { "type": "string", "minLength": 1, "maxLength": 200 } } },
        "SendBody": { "type": "object", "required": ["session_id", "content"], "properties": { "session_id": uuid, "content": { "type": "string", "maxLength": 32000 } } },
    })
}

#[cfg(test)]
mod tests {
    use super::openapi_path;

    #[test]
    fn converts_paths() {
        assert_eq!(
            openapi_path("/", "/chat/sessions/<session_id>/stop"),
            "/chat/sessions/{session_id}/stop"
        );
        assert_eq!(openapi_path("/api", "/health"), "/api/health");
    }
}
