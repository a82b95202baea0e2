//! Tables as files people open in Excel (shared by reports and the ticket
//! statistics; a utility, not a feature): CSV (written by the `csv` crate,
//! UTF-8 with a byte-order mark, or Shift_JIS on request) and `.xlsx`
//! (`rust_xlsxwriter`), with Japanese headers. A text cell that a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at the
//! start) is written with a leading `'`.

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Float)
    }
}

/// One table: a sheet of the workbook.
#[derive(Debug, Clone)]
pub struct Table {
    /// Sheet name (Excel allows 31 characters).
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// A text cell made safe for a spreadsheet.
pub fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => neutralise(s),
            Cell::Int(n) => n.to_string(),
            Cell::Float(v) => format!("{:.1}", v),
            Cell::Empty => String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 with a byte-order mark: Japanese Excel reads it without
    /// garbling.
    Utf8Bom,
    /// For older Excel and other tools that expect Shift_JIS; characters it
    /// cannot hold become `?`.
    ShiftJis,
}

impl Encoding {
    pub fn parse(raw: Option<&str>) -> AppResult<Encoding> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("utf-8" | "utf8") => Ok(Encoding::Utf8Bom),
            Some("shift_jis" | "sjis" | "cp932") => Ok(Encoding::ShiftJis),
            Some(_) => Err(AppError::invalid_field(
                "encoding",
                "must be utf-8 or shift_jis",
            )),
        }
    }

    pub fn charset(self) -> &'static str {
        match self {
            Encoding::Utf8Bom => "utf-8",
            Encoding::ShiftJis => "shift_jis",
        }
    }

    /// Encodes written UTF-8 text (the start of a file: with the BOM).
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8Bom => {
                let mut out = "\u{feff}".as_bytes().to_vec();
                out.extend_from_slice(text.as_bytes());
                out
            }
            Encoding::ShiftJis => self.encode_more(text),
        }
    }

    /// Encodes a later part of a file (no BOM).
    pub fn encode_more(self, text: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8Bom => text.as_bytes().to_vec(),
            Encoding::ShiftJis => {
                let mut out = Vec::with_capacity(text.len());
                let mut buf = [0u8; 4];
                for c in text.chars() {
                    let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
                    if bad {
                        out.push(b'?');
                    } else {
                        out.extend_from_slice(&bytes);
                    }
                }
                out
            }
        }
    }
}

/// Writes rows as CSV text (RFC 4180 quoting, CRLF as Excel writes).
pub fn csv_text(headers: &[&str], rows: impl IntoIterator<Item = Vec<Cell>>) -> AppResult<String> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!("csv: {e}"));
    if !headers.is_empty() {
        w.write_record(headers).map_err(fail)?;
    }
    for row in rows {
        w.write_record(row.iter().map(Cell::text)).map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.into()))
}

/// Several tables in one CSV: `表,項目,指標,値`, one figure per line.
pub fn tables_csv(tables: &[Table]) -> AppResult<String> {
    let mut rows = Vec::new();
    for t in tables {
        for row in &t.rows {
            let item = row.first().cloned().unwrap_or(Cell::Empty);
            for (h, v) in t.headers.iter().zip(row.iter()).skip(1) {
                rows.push(vec![
                    Cell::from(t.title),
                    item.clone(),
                    Cell::from(*h),
                    v.clone(),
                ]);
            }
        }
    }
    csv_text(&["表", "項目", "指標", "値"], rows)
}

/// The tables as a workbook, one sheet each.
pub fn xlsx(tables: &[Table]) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for t in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(t.title).map_err(fail)?;
        for (c, h) in t.headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, *h, &bold)
                .map_err(fail)?;
            sheet
                .set_column_width(c as u16, if c == 0 { 28 } else { 14 })
                .map_err(fail)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    // Strings are stored as text: never a formula.
                    Cell::Text(s) => sheet.write_string(r, c, s).map(|_| ()),
                    Cell::Int(n) => sheet.write_number(r, c, *n as f64).map(|_| ()),
                    Cell::Float(v) => sheet.write_number(r, c, *v).map(|_| ()),
                    Cell::Empty => Ok(()),
                }
                .map_err(fail)?;
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_commas_quoted() {
        let text = csv_text(
            &["項目", "値"],
            vec![
                vec![Cell::from("=HYPERLINK(\"x\")"), Cell::Int(1)],
                vec![Cell::from("写真, 印刷"), Cell::Int(-2)],
                vec![Cell::from("@SUM(A1)"), Cell::Empty],
            ],
        )
        .unwrap();
        assert_eq!(
            text,
            "項目,値\r\n\"'=HYPERLINK(\"\"x\"\")\",1\r\n\"写真, 印刷\",-2\r\n'@SUM(A1),\r\n"
        );
    }

    #[test]
    fn japanese_excel_gets_a_bom_or_shift_jis() {
        let utf8 = Encoding::Utf8Bom.encode("参加者");
        assert_eq!(&utf8[..3], b"\xef\xbb\xbf");
        let sjis = Encoding::ShiftJis.encode("参加者,1\r\n");
        let (back, _, bad) = encoding_rs::SHIFT_JIS.decode(&sjis);
        assert!(!bad);
        assert_eq!(back, "参加者,1\r\n");
        assert_eq!(Encoding::ShiftJis.encode("😀"), b"?");
    }

    #[test]
    fn a_workbook_is_a_zip() {
        let t = Table {
            title: "概要",
            headers: vec!["項目", "値"],
            rows: vec![vec![Cell::from("参加者"), Cell::Int(3)]],
        };
        let bytes = xlsx(&[t]).unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
