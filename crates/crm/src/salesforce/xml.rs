//! A small, bounded element tree over quick-xml, with namespaces resolved: enough to walk a
//! SOAP envelope by (namespace, local name). No DTDs, no external entities.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Deeper than any Outbound Message (Envelope/Body/notifications/Notification/sObject/field).
const MAX_DEPTH: usize = 16;
/// 100 notifications × a few hundred fields, with room to spare.
const MAX_ELEMENTS: usize = 100_000;

pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML: {0}")]
    Syntax(String),
    #[error("document type declarations are not accepted")]
    Dtd,
    #[error("nesting deeper than {MAX_DEPTH} or more than {MAX_ELEMENTS} elements")]
    TooLarge,
    #[error("no root element")]
    Empty,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub ns: Option<String>,
    pub name: String,
    /// (namespace, local name, value); `xmlns` declarations are left out.
    pub attrs: Vec<(Option<String>, String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.name == name
    }
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }
    pub fn attr(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, l, _)| n.as_deref() == Some(ns) && l == name)
            .map(|(_, _, v)| v.as_str())
    }
    /// `xsi:nil="true"`: the field was selected but is empty.
    pub fn is_nil(&self) -> bool {
        matches!(self.attr(XSI, "nil"), Some("true" | "1"))
    }
}

/// Parses a whole document into its root element.
pub fn parse(xml: &str) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut count = 0usize;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| XmlError::Syntax(e.to_string()))?;
        let ns = namespace(ns);
        match event {
            Event::Start(e) => {
                within_limits(&stack, &mut count)?;
                stack.push(element(&reader, ns, &e)?);
            }
            Event::Empty(e) => {
                within_limits(&stack, &mut count)?;
                let el = element(&reader, ns, &e)?;
                if let Some(root) = attach(&mut stack, el) {
                    return Ok(root);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError::Syntax("unexpected end tag".into()))?;
                if let Some(root) = attach(&mut stack, el) {
                    return Ok(root);
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::CData(t) => push_text(&mut stack, &t.into_inner())?,
            Event::GeneralRef(r) => push_text(&mut stack, &reference(&r)?)?,
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Eof => {
                return Err(if stack.is_empty() {
                    XmlError::Empty
                } else {
                    XmlError::Syntax("unclosed element".into())
                })
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
}

/// Counts one more element; refuses documents deeper or larger than any Outbound Message.
fn within_limits(stack: &[Element], count: &mut usize) -> Result<(), XmlError> {
    *count += 1;
    if stack.len() >= MAX_DEPTH || *count > MAX_ELEMENTS {
        return Err(XmlError::TooLarge);
    }
    Ok(())
}

/// Adds a finished element to its parent; returns it when it was the root.
fn attach(stack: &mut [Element], el: Element) -> Option<Element> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(el);
            None
        }
        None => Some(el),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(top) => top.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(XmlError::Syntax("text outside the root element".into())),
    }
    Ok(())
}

fn namespace(ns: ResolveResult<'_>) -> Option<String> {
    match ns {
        ResolveResult::Bound(n) => Some(n.into_inner().to_owned()),
        ResolveResult::Unbound | ResolveResult::Unknown(_) => None,
    }
}

fn element(reader: &NsReader<&[u8]>, ns: Option<String>, e: &BytesStart<'_>) -> Result<Element, XmlError> {
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| XmlError::Syntax(e.to_string()))?;
        let key = attr.key;
        if key.as_ref() == "xmlns" || key.prefix().is_some_and(|p| p.as_ref() == "xmlns") {
            continue;
        }
        let (attr_ns, local) = reader.resolver().resolve_attribute(key);
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Syntax(e.to_string()))?;
        attrs.push((namespace(attr_ns), local.as_ref().to_owned(), value.into_owned()));
    }
    let name = e.local_name().as_ref().to_owned();
    Ok(Element {
        ns,
        name,
        attrs,
        ..Element::default()
    })
}

/// `&amp;`-style and `&#x41;`-style references in text.
fn reference(r: &BytesRef<'_>) -> Result<String, XmlError> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| XmlError::Syntax(e.to_string()))? {
        return Ok(c.to_string());
    }
    let named = match r.xml10_content().as_ref() {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        other => return Err(XmlError::Syntax(format!("unknown entity &{other};"))),
    };
    Ok(named.to_owned())
}
