//! Salesforce Outbound Messages: the SOAP `notifications` call ([`outbound`]) and the replies
//! the Outbound Messaging WSDL defines ([`ACK`], [`fault`]).
//!
//! There is no signature: the listener checks `OrganizationId` against the tenant's org
//! ([`outbound::OutboundMessage::ensure_org`]), serves TLS, and carries a per-tenant secret in
//! its URL path (`/v1/hooks/salesforce/{secret}`).

pub mod outbound;
mod xml;

pub use outbound::OutboundMessage;
pub use xml::XmlError;

use crate::fact::IdError;
use std::fmt;

pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const OUTBOUND_NS: &str = "http://soap.sforce.com/2005/09/outbound";
pub const SOBJECT_NS: &str = "urn:sobject.enterprise.soap.sforce.com";
/// The content type of both the request and the replies (SOAP 1.1).
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// The acknowledgement (`notificationsResponse`, `Ack` = `true`), answered with HTTP 200.
/// One Ack covers every notification in the message: send it only once all are stored.
pub const ACK: &str = concat!(
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">"#,
    r#"<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">"#,
    r#"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#
);

/// Who a SOAP 1.1 fault blames: the sender's message, or this listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    Client,
    Server,
}

/// A SOAP 1.1 `Fault` envelope (sent with HTTP 500, as SOAP 1.1 requires). Salesforce keeps the
/// message queued and retries it, so a fault is right for "not stored yet", not for ignoring.
pub fn fault(code: FaultCode, message: &str) -> String {
    let code = match code {
        FaultCode::Client => "soapenv:Client",
        FaultCode::Server => "soapenv:Server",
    };
    format!(
        concat!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>"#,
            "<soapenv:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring></soapenv:Fault>",
            "</soapenv:Body></soapenv:Envelope>"
        ),
        code,
        quick_xml::escape::escape(message)
    )
}

/// A Salesforce record id: 15 (case-sensitive) or 18 (case-safe) letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SalesforceId(String);

impl SalesforceId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(IdError::Empty { what: "Salesforce id" });
        }
        if !matches!(s.len(), 15 | 18) || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdError::Invalid {
                what: "Salesforce id",
                value: s.chars().take(40).collect(),
            });
        }
        Ok(SalesforceId(s.to_owned()))
    }
    /// The same record whether written with 15 or 18 characters (the last 3 are a checksum).
    pub fn same_record(&self, other: &SalesforceId) -> bool {
        self.0[..15] == other.0[..15]
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Every form a record's key may have been stored under: as written, and its 15- and
    /// 18-character forms (Outbound Messages write 18, report exports 15).
    pub fn written_forms(&self) -> Vec<String> {
        let safe = self.case_safe().0;
        let mut forms = vec![self.0.clone(), safe[..15].to_owned(), safe];
        forms.sort();
        forms.dedup();
        forms
    }

    /// The 18-character (case-safe) form, as the API and Outbound Messages write it: each
    /// 5-character chunk of the 15 gives one suffix letter, its bit `i` set when character `i`
    /// is upper case.
    pub fn case_safe(&self) -> SalesforceId {
        if self.0.len() == 18 {
            return self.clone();
        }
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
        let mut id = self.0.clone();
        for chunk in self.0.as_bytes().chunks(5) {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_uppercase())
                .fold(0usize, |n, (i, _)| n | (1 << i));
            id.push(char::from(ALPHABET[bits]));
        }
        SalesforceId(id)
    }
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SalesforceError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not an Outbound Message: {0}")]
    NotOutbound(&'static str),
    #[error("{0} notifications in one message; the WSDL allows 1 to 100")]
    Count(usize),
    #[error("notification {position}: {field} is missing or empty")]
    Field { position: usize, field: &'static str },
    #[error("notification {position}: {error}")]
    Id { position: usize, error: IdError },
    #[error("OrganizationId {0} is not this tenant's org")]
    UnknownOrg(String),
}

#[cfg(test)]
mod tests {
    use super::SalesforceId;

    #[test]
    fn a_15_character_id_gets_its_case_safe_suffix_and_an_18_character_one_stays() {
        // Salesforce's own example of the two forms of one record id.
        let short = SalesforceId::parse("001A0000006Vm9r").unwrap();
        assert_eq!(short.case_safe().as_str(), "001A0000006Vm9rIAC");
        assert!(short.same_record(&short.case_safe()));
        assert_eq!(short.written_forms(), ["001A0000006Vm9r", "001A0000006Vm9rIAC"]);
        let org = SalesforceId::parse("00D000000000001EAA").unwrap();
        assert_eq!(org.case_safe(), org);
        assert_eq!(SalesforceId::parse("00D000000000001").unwrap().case_safe(), org);
        assert_eq!(
            SalesforceId::parse("00q00000000000a").unwrap().case_safe().as_str(),
            "00q00000000000aAAA"
        );
    }
}
