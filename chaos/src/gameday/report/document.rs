//! A small document model, written out as Markdown and as HTML, so the two
//! reports say exactly the same thing.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Heading(u8, String),
    Paragraph(String),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    Image {
        alt: String,
        src: String,
    },
}

pub(crate) fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {text}\n", "#".repeat(usize::from(*level)));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::Table { header, rows } => {
                let cells = |row: &[String]| {
                    row.iter()
                        .map(|c| c.replace('|', "\\|"))
                        .collect::<Vec<_>>()
                        .join(" | ")
                };
                let _ = writeln!(out, "| {} |", cells(header));
                let _ = writeln!(out, "|{}", " --- |".repeat(header.len()));
                for row in rows {
                    let _ = writeln!(out, "| {} |", cells(row));
                }
                out.push('\n');
            }
            Block::Image { alt, src } => {
                let _ = writeln!(out, "![{alt}]({src})\n");
            }
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Markdown's `code` spans and **bold**, the only inline markup used.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(text).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, bit) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<strong>{bit}</strong>");
                } else {
                    out.push_str(bit);
                }
            }
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;\
padding:0 1rem;color:#1f2328}table{border-collapse:collapse;margin:1rem 0}\
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}img{max-width:100%}code{background:#f6f8fa;padding:0 .2rem}\
td:has(>.pass){background:#dafbe1}td:has(>.fail){background:#ffebe9}";

pub(crate) fn html(title: &str, blocks: &[Block]) -> String {
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", inline(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", inline(text));
            }
            Block::Table { header, rows } => {
                out.push_str("<table>\n<tr>");
                for cell in header {
                    let _ = write!(out, "<th>{}</th>", inline(cell));
                }
                out.push_str("</tr>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let class = match cell.as_str() {
                            "PASS" => " class=\"pass\"",
                            "FAIL" => " class=\"fail\"",
                            _ => "",
                        };
                        let _ = write!(out, "<td><span{class}>{}</span></td>", inline(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Image { alt, src } => {
                let _ = writeln!(
                    out,
                    "<p><img src=\"{}\" alt=\"{}\"></p>",
                    escape(src),
                    escape(alt)
                );
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_renderings_carry_the_same_table() {
        let blocks = [Block::Table {
            header: vec!["Expectation".into(), "Verdict".into()],
            rows: vec![vec!["`A` fires".into(), "FAIL".into()]],
        }];
        assert_eq!(
            markdown(&blocks),
            "| Expectation | Verdict |\n| --- | --- |\n| `A` fires | FAIL |\n\n"
        );
        let html = html("t", &blocks);
        assert!(
            html.contains("<td><span><code>A</code> fires</span></td>"),
            "{html}"
        );
        assert!(html.contains("<span class=\"fail\">FAIL</span>"), "{html}");
    }

    #[test]
    fn html_escapes_text() {
        let html = html("a<b", &[Block::Paragraph("1 < 2 & **bold**".into())]);
        assert!(html.contains("<title>a&lt;b</title>"));
        assert!(html.contains("<p>1 &lt; 2 &amp; <strong>bold</strong></p>"));
    }
}
