//! The development mailbox at `/dev/mail`: mounted only when no SMTP server is configured,
//! so a newcomer can follow the whole journey without a mail server. It shows each message
//! as a mail program would: headers, the plain text, and the HTML with its inline images.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use mail_parser::{MessageParser, MimeHeaders};

use crate::http::{AppState, WebError};
use crate::store::DevMail;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dev/mail", get(list))
        .route("/dev/mail/{id}", get(show))
        .route("/dev/mail/{id}/html", get(html_body))
        .route("/dev/mail/{id}/raw", get(raw))
        .route("/dev/mail/{id}/cid/{cid}", get(inline_part))
}

struct Summary {
    id: i64,
    recipient: String,
    subject: String,
    received: String,
}

#[derive(Template)]
#[template(path = "devmail_list.html")]
struct ListPage {
    mails: Vec<Summary>,
}

#[derive(Template)]
#[template(path = "devmail_show.html")]
struct ShowPage {
    id: i64,
    from: String,
    to: String,
    subject: String,
    text: Vec<TextPiece>,
    has_html: bool,
    inline: Vec<String>,
}

/// When it arrived, in Dutch local time as the rest of the service shows times.
fn received_at(mail: &DevMail) -> String {
    crate::texts::NL.moment(mail.received_at)
}

/// A piece of the plain-text part: words, or a link a developer can click (a mail program
/// makes the `https://` addresses of a text mail clickable too).
pub(super) struct TextPiece {
    text: String,
    link: bool,
}

/// Splits `text` into words and `http(s)://` links (up to the next white space or `>`).
pub(super) fn with_links(text: &str) -> Vec<TextPiece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let end = rest[start..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '<')
            .map_or(rest.len(), |e| start + e);
        if start > 0 {
            pieces.push(TextPiece {
                text: rest[..start].to_owned(),
                link: false,
            });
        }
        pieces.push(TextPiece {
            text: rest[start..end].to_owned(),
            link: true,
        });
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        pieces.push(TextPiece {
            text: rest.to_owned(),
            link: false,
        });
    }
    pieces
}

async fn list(State(state): State<AppState>) -> Result<Response, WebError> {
    let mails = state.store.dev_mails().await?;
    let mails = mails
        .iter()
        .map(|mail| Summary {
            id: mail.id,
            recipient: mail.recipient.clone(),
            subject: MessageParser::default()
                .parse(&mail.message)
                .and_then(|m| m.subject().map(str::to_owned))
                .unwrap_or_default(),
            received: received_at(mail),
        })
        .collect();
    Ok(Html(ListPage { mails }.render()?).into_response())
}

async fn load(state: &AppState, id: i64) -> Result<DevMail, WebError> {
    state.store.dev_mail(id).await?.ok_or(WebError::NotFound)
}

async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, WebError> {
    let mail = load(&state, id).await?;
    let parsed = MessageParser::default()
        .parse(&mail.message)
        .ok_or(WebError::NotFound)?;
    let address = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    };
    let page = ShowPage {
        id,
        from: address(parsed.from()),
        to: address(parsed.to()),
        subject: parsed.subject().unwrap_or_default().to_owned(),
        text: with_links(&parsed.body_text(0).unwrap_or_default()),
        has_html: parsed.html_body_count() > 0,
        inline: parsed
            .parts
            .iter()
            .filter_map(|p| p.content_id().map(str::to_owned))
            .collect(),
    };
    // The page frames the HTML part, so it needs frame-src on top of the usual policy.
    let policy = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; \
                  frame-ancestors 'none'; base-uri 'none'";
    Ok((
        [(header::CONTENT_SECURITY_POLICY, policy)],
        Html(page.render()?),
    )
        .into_response())
}

async fn html_body(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let mail = load(&state, id).await?;
    let parsed = MessageParser::default()
        .parse(&mail.message)
        .ok_or(WebError::NotFound)?;
    let html = parsed.body_html(0).ok_or(WebError::NotFound)?;
    let html = html.replace("cid:", &format!("/dev/mail/{id}/cid/"));
    // A link in the mail (HIER) leaves the frame for the whole tab, as it would leave a mail
    // program: inside the frame our pages refuse to be framed (frame-ancestors 'none').
    let html = format!("<base target=\"_top\">{html}");
    // Mail HTML is untrusted: no scripts, only our own images, framed only by our own page;
    // it may take the tab away only when the user clicks.
    let policy = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
                  frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox \
                  allow-top-navigation-by-user-activation";
    // The mail is shown as it was sent: the development band stays on the page around it.
    let mut response = ([(header::CONTENT_SECURITY_POLICY, policy)], Html(html)).into_response();
    response.extensions_mut().insert(super::dev_band::AsSent);
    Ok(response)
}

async fn raw(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, WebError> {
    let mail = load(&state, id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        mail.message,
    )
        .into_response())
}

async fn inline_part(
    State(state): State<AppState>,
    Path((id, cid)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    let mail = load(&state, id).await?;
    let parsed = MessageParser::default()
        .parse(&mail.message)
        .ok_or(WebError::NotFound)?;
    let part = parsed
        .parts
        .iter()
        .find(|p| p.content_id() == Some(cid.as_str()))
        .ok_or(WebError::NotFound)?;
    let content_type = part
        .content_type()
        .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")))
        .unwrap_or_else(|| "application/octet-stream".into());
    // Only images are served inline; anything else is offered as a download.
    let content_type = if content_type.starts_with("image/") {
        content_type
    } else {
        "application/octet-stream".into()
    };
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        part.contents().to_vec(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::with_links;

    #[test]
    fn links_in_the_text_part_are_cut_out_whole() {
        let pieces = with_links(
            "HIER: https://login.example.nl/invite/abc-DEF_1\nof <http://localhost:8080/x>.",
        );
        let shown: Vec<(&str, bool)> = pieces.iter().map(|p| (p.text.as_str(), p.link)).collect();
        assert_eq!(
            shown,
            [
                ("HIER: ", false),
                ("https://login.example.nl/invite/abc-DEF_1", true),
                ("\nof <", false),
                ("http://localhost:8080/x", true),
                (">.", false),
            ]
        );
        assert!(with_links("no link").iter().all(|p| !p.link));
        assert!(with_links("").is_empty());
    }
}
