//! The texts residents read or hear: plain Japanese mail (one template per
//! kind under `templates/mail/`) and the script staff read on a call
//! (`templates/call/script.txt`), rendered with askama (checked at compile
//! time, no HTML escaping in plain text).

use askama::Template;
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use super::types::Kind;
use crate::error::{AppError, AppResult};

/// One session of a letter listing several (an enrolment).
#[derive(Debug, Clone, Default)]
pub struct SessionLine {
    pub when: String,
    pub venue: String,
    pub reference: String,
}

/// Everything a letter may say; each template uses what its kind needs.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub kind: String,
    pub organisation: String,
    pub contact_phone: String,
    pub signature: String,
    /// The resident's (or requester's) name, without 様.
    pub resident: String,
    pub course: String,
    pub when: String,
    pub old_when: String,
    pub venue: String,
    pub room: String,
    pub address: String,
    /// Spaced for reading: `K7M 4PX`.
    pub reference: String,
    /// How to read it aloud: `ケー・なな・エム ／ よん・ピー・エックス`.
    pub reading: String,
    pub fee: i32,
    /// `reserved`, `waiting` or empty.
    pub loaner: String,
    pub position: i64,
    pub reason: String,
    pub sessions: Vec<SessionLine>,
    pub subject: String,
    pub reply: String,
    /// Until when an offered seat is held: `2月2日（火）18:00`.
    pub offer_until: String,
}

const WEEKDAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// A local date as staff and residents read it: `2月2日（火）`.
pub fn day(date: chrono::NaiveDate) -> String {
    format!(
        "{}月{}日（{}）",
        date.month(),
        date.day(),
        WEEKDAYS[date.weekday().num_days_from_monday() as usize]
    )
}

/// An instant as `2月2日（火）18:00` in the organisation's timezone.
pub fn at(t: DateTime<Utc>, tz: &Tz) -> String {
    let local = t.with_timezone(tz);
    format!("{}{}", day(local.date_naive()), local.format("%H:%M"))
}

/// `2027年2月2日（火）14:00〜16:00` in the organisation's timezone.
pub fn when(starts: DateTime<Utc>, ends: DateTime<Utc>, tz: &Tz) -> String {
    let (s, e) = (starts.with_timezone(tz), ends.with_timezone(tz));
    format!(
        "{}年{}月{}日（{}）{}〜{}",
        s.year(),
        s.month(),
        s.day(),
        WEEKDAYS[s.weekday().num_days_from_monday() as usize],
        s.format("%H:%M"),
        e.format("%H:%M")
    )
}

/// A reference code spaced in threes for reading aloud: `K7M2QX` → `K7M 2QX`.
pub fn spaced(reference: &str) -> String {
    let chars: Vec<char> = reference.chars().collect();
    chars
        .chunks(3)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How each character of a reference is read aloud.
pub fn reading(reference: &str) -> String {
    let read = |c: char| -> String {
        match c {
            '0' => "ゼロ".into(),
            '1' => "いち".into(),
            '2' => "に".into(),
            '3' => "さん".into(),
            '4' => "よん".into(),
            '5' => "ご".into(),
            '6' => "ろく".into(),
            '7' => "なな".into(),
            '8' => "はち".into(),
            '9' => "きゅう".into(),
            'A' => "エー".into(),
            'B' => "ビー".into(),
            'C' => "シー".into(),
            'D' => "ディー".into(),
            'E' => "イー".into(),
            'F' => "エフ".into(),
            'G' => "ジー".into(),
            'H' => "エイチ".into(),
            'J' => "ジェー".into(),
            'K' => "ケー".into(),
            'L' => "エル".into(),
            'M' => "エム".into(),
            'N' => "エヌ".into(),
            'P' => "ピー".into(),
            'Q' => "キュー".into(),
            'R' => "アール".into(),
            'S' => "エス".into(),
            'T' => "ティー".into(),
            'U' => "ユー".into(),
            'V' => "ブイ".into(),
            'W' => "ダブリュー".into(),
            'X' => "エックス".into(),
            'Y' => "ワイ".into(),
            'Z' => "ゼット".into(),
            other => other.to_string(),
        }
    };
    let chars: Vec<char> = reference.chars().collect();
    chars
        .chunks(3)
        .map(|part| part.iter().map(|c| read(*c)).collect::<Vec<_>>().join("・"))
        .collect::<Vec<_>>()
        .join(" ／ ")
}

macro_rules! templates {
    ($($name:ident => $path:literal),* $(,)?) => {
        $(
            #[derive(Template)]
            #[template(path = $path, escape = "none")]
            struct $name<'a> {
                f: &'a Facts,
            }
        )*
    };
}

templates! {
    BookingConfirmed => "mail/booking_confirmed.txt",
    BookingWaitlisted => "mail/booking_waitlisted.txt",
    BookingPromoted => "mail/booking_promoted.txt",
    BookingCancelled => "mail/booking_cancelled.txt",
    SessionCancelled => "mail/session_cancelled.txt",
    SessionMoved => "mail/session_moved.txt",
    EnrolmentConfirmed => "mail/enrolment_confirmed.txt",
    Reminder => "mail/reminder.txt",
    TicketAcknowledged => "mail/ticket_acknowledged.txt",
    TicketReply => "mail/ticket_reply.txt",
    ApplicationReceived => "mail/application_received.txt",
    LotteryWon => "mail/lottery_won.txt",
    LotteryWaitlisted => "mail/lottery_waitlisted.txt",
    LotteryNotDrawn => "mail/lottery_not_drawn.txt",
    SeatOffered => "mail/seat_offered.txt",
    OfferExpired => "mail/offer_expired.txt",
    CallScript => "call/script.txt",
}

fn rendered(r: Result<String, askama::Error>) -> AppResult<String> {
    r.map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))
}

/// Subject and body of the mail of `kind`.
pub fn mail(kind: Kind, f: &Facts) -> AppResult<(String, String)> {
    let org = &f.organisation;
    let (subject, body) = match kind {
        Kind::BookingConfirmed => (
            format!("【{org}】ご予約を受け付けました（{}）", f.when),
            BookingConfirmed { f }.render(),
        ),
        Kind::BookingWaitlisted => (
            format!("【{org}】キャンセル待ちで受け付けました"),
            BookingWaitlisted { f }.render(),
        ),
        Kind::BookingPromoted => (
            format!("【{org}】席が空き、ご予約が確定しました"),
            BookingPromoted { f }.render(),
        ),
        Kind::BookingCancelled => (
            format!("【{org}】ご予約を取り消しました"),
            BookingCancelled { f }.render(),
        ),
        Kind::SessionCancelled => (
            format!("【{org}】講座中止のお知らせ（{}）", f.when),
            SessionCancelled { f }.render(),
        ),
        Kind::SessionMoved => (
            format!("【{org}】講座の日時・会場の変更"),
            SessionMoved { f }.render(),
        ),
        Kind::EnrolmentConfirmed => (
            format!("【{org}】「{}」のお申し込みを受け付けました", f.course),
            EnrolmentConfirmed { f }.render(),
        ),
        Kind::Reminder => (
            format!("【{org}】ご予約の確認（{}）", f.when),
            Reminder { f }.render(),
        ),
        Kind::TicketAcknowledged => (
            format!("【{org}】ご相談を受け付けました"),
            TicketAcknowledged { f }.render(),
        ),
        Kind::TicketReply => (
            format!("【{org}】ご相談へのお返事"),
            TicketReply { f }.render(),
        ),
        Kind::ApplicationReceived => (
            format!("【{org}】抽選のお申し込みを受け付けました（{}）", f.when),
            ApplicationReceived { f }.render(),
        ),
        Kind::LotteryWon => (
            format!("【{org}】抽選の結果：当選しました（{}）", f.when),
            LotteryWon { f }.render(),
        ),
        Kind::LotteryWaitlisted => (
            format!("【{org}】抽選の結果：キャンセル待ち{}番目です", f.position),
            LotteryWaitlisted { f }.render(),
        ),
        Kind::LotteryNotDrawn => (
            format!("【{org}】抽選の結果のお知らせ"),
            LotteryNotDrawn { f }.render(),
        ),
        Kind::SeatOffered => (
            format!(
                "【{org}】席が空きました（{}までにご連絡ください）",
                f.offer_until
            ),
            SeatOffered { f }.render(),
        ),
        Kind::OfferExpired => (
            format!("【{org}】お取り置きの期限が過ぎました"),
            OfferExpired { f }.render(),
        ),
    };
    Ok((subject, rendered(body)?))
}

/// What staff read to the resident on the call.
pub fn call_script(f: &Facts) -> AppResult<String> {
    rendered(CallScript { f }.render()).map(|s| s.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts() -> Facts {
        Facts {
            kind: "booking_confirmed".into(),
            organisation: "北区ICT相談センター".into(),
            contact_phone: "03-1234-5678".into(),
            signature: "平日 9:00〜17:00".into(),
            resident: "佐藤 花子".into(),
            course: "はじめてのスマホ教室".into(),
            when: "2027年2月2日（火）14:00〜16:00".into(),
            venue: "北公民館".into(),
            room: "第1会議室".into(),
            address: "北町1-2-3".into(),
            reference: spaced("K7M4PX"),
            reading: reading("K7M4PX"),
            fee: 300,
            loaner: "reserved".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_session_time_reads_with_the_weekday() {
        let tz = chrono_tz::Asia::Tokyo;
        let s = tz
            .with_ymd_and_hms(2027, 2, 2, 14, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let e = tz
            .with_ymd_and_hms(2027, 2, 2, 16, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(when(s, e, &tz), "2027年2月2日（火）14:00〜16:00");
        assert_eq!(spaced("K7M4PX"), "K7M 4PX");
    }

    #[test]
    fn a_confirmation_says_what_the_resident_needs() {
        let (subject, body) = mail(Kind::BookingConfirmed, &facts()).unwrap();
        assert!(subject.contains("北区ICT相談センター"), "{subject}");
        for needed in [
            "佐藤 花子 様",
            "2027年2月2日（火）14:00〜16:00",
            "北公民館 第1会議室",
            "住所：北町1-2-3",
            "予約番号：K7M 4PX",
            "ケー・なな・エム ／ よん・ピー・エックス",
            "参加費：300円",
            "貸出用のスマートフォンを用意しています",
            "電話：03-1234-5678",
            "平日 9:00〜17:00",
        ] {
            assert!(body.contains(needed), "{needed} missing from:\n{body}");
        }
        assert!(!body.contains("{{"), "{body}");
    }

    #[test]
    fn every_kind_renders_and_the_call_script_is_short() {
        for kind in Kind::ALL {
            let (subject, body) = mail(*kind, &facts()).unwrap();
            assert!(!subject.is_empty() && body.contains("北区ICT相談センター"));
        }
        let mut f = facts();
        f.kind = "session_cancelled".into();
        f.reason = "講師急病".into();
        let script = call_script(&f).unwrap();
        assert!(
            script.contains("中止") && script.contains("講師急病"),
            "{script}"
        );
        assert!(script.lines().count() <= 4, "{script}");
    }
}
