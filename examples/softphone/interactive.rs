//! `interactive`: commands typed on standard input, acting on the current call (the newest
//! one still up).

use serde_json::json;
use sip_ua::CallHandle;
use sip_ua::driver::MediaKind;

use crate::cli::{dtmf_digits, dtmf_method};
use crate::phone::Phone;

/// The commands and what they do, for `help`.
const HELP: [&str; 14] = [
    "call TARGET            call an extension, user@host or SIP URI",
    "answer                 answer the ringing call",
    "reject [CODE]          reject the ringing call (default 486)",
    "hangup                 end the current call",
    "hold | resume          put the current call on hold or take it off",
    "mute | unmute          stop or restart sending our audio",
    "dtmf DIGITS [METHOD]   send DTMF (METHOD rfc4733 or info)",
    "transfer TARGET        blind transfer of the current call (REFER)",
    "message TARGET TEXT    send a text MESSAGE",
    "register | unregister  register again or remove our binding",
    "calls                  list the calls",
    "switch CALL            make call number CALL the current call",
    "help                   this list",
    "quit                   hang up every call and exit",
];

impl Phone {
    /// The current call, or an error to print.
    fn current_call(&self) -> Result<CallHandle, String> {
        self.current
            .filter(|c| self.calls.contains_key(c))
            .or_else(|| self.calls.keys().max().copied())
            .ok_or_else(|| "there is no call".to_owned())
    }

    /// Runs one typed command; problems are printed, never fatal.
    pub(crate) async fn on_line(&mut self, line: &str) {
        if let Err(e) = self.command(line).await {
            self.printer.error(&e);
        }
    }

    async fn command(&mut self, line: &str) -> Result<(), String> {
        let mut words = line.split_whitespace();
        let Some(verb) = words.next() else {
            return Ok(());
        };
        let arg = words.next();
        match (verb.to_ascii_lowercase().as_str(), arg) {
            ("help", _) => self.printer.note("help", json!({"commands": HELP})),
            ("call", Some(target)) => self.place_call(target, None, None, None).await?,
            ("answer", _) => {
                let call = self.ringing_call()?;
                self.answer(call).await;
            }
            ("reject", code) => {
                let call = self.ringing_call()?;
                let code = match code {
                    None => 486,
                    Some(code) => code
                        .parse::<u16>()
                        .ok()
                        .filter(|c| (400..=699).contains(c))
                        .ok_or_else(|| format!("{code:?} is not a status of 400-699"))?,
                };
                self.reject(call, code).await;
            }
            ("hangup", _) => {
                let call = self.current_call()?;
                self.handle(call)
                    .hangup()
                    .await
                    .map_err(|e| e.to_string())?;
            }
            ("hold", _) => {
                let call = self.current_call()?;
                self.handle(call).hold().await.map_err(|e| e.to_string())?;
            }
            ("resume", _) => {
                let call = self.current_call()?;
                self.handle(call)
                    .resume()
                    .await
                    .map_err(|e| e.to_string())?;
            }
            ("mute" | "unmute", _) => {
                let call = self.current_call()?;
                let muted = verb.eq_ignore_ascii_case("mute");
                let state = self
                    .handle(call)
                    .mute(MediaKind::Microphone, muted)
                    .await
                    .map_err(|e| e.to_string())?;
                self.printer
                    .note("muted", json!({"call": call.0, "muted": state.microphone}));
            }
            ("dtmf", Some(digits)) => {
                let digits = dtmf_digits(digits)?;
                let method = match words.next() {
                    Some(method) => dtmf_method(method)?,
                    None => self.default_dtmf,
                };
                let call = self.current_call()?;
                self.send_dtmf(call, &digits, method).await?;
            }
            ("transfer", Some(target)) => {
                let call = self.current_call()?;
                self.handle(call)
                    .transfer(target)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            ("message", Some(target)) => {
                let text = words.collect::<Vec<_>>().join(" ");
                if text.is_empty() {
                    return Err("message needs a TARGET and some TEXT".to_owned());
                }
                self.ua
                    .send_message(target, "text/plain", &text)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            ("register", _) => self.ua.register().await.map_err(|e| e.to_string())?,
            ("unregister", _) => self.ua.unregister(false).await.map_err(|e| e.to_string())?,
            ("calls", _) => {
                let mut calls: Vec<_> = self
                    .calls
                    .iter()
                    .map(|(call, state)| {
                        json!({
                            "call": call.0,
                            "incoming": state.incoming,
                            "answered": state.answered,
                            "current": Some(*call) == self.current,
                        })
                    })
                    .collect();
                calls.sort_by_key(|c| c["call"].as_u64());
                self.printer.note("calls", json!({"calls": calls}));
            }
            ("switch", Some(number)) => {
                let call = number
                    .parse::<u64>()
                    .ok()
                    .map(CallHandle)
                    .filter(|c| self.calls.contains_key(c))
                    .ok_or_else(|| format!("there is no call {number}"))?;
                self.current = Some(call);
            }
            ("quit" | "exit", _) => self.stop().await,
            ("call" | "dtmf" | "transfer" | "message" | "switch", None) => {
                return Err(format!("{verb} needs an argument (type help)"));
            }
            _ => return Err(format!("unknown command {verb:?} (type help)")),
        }
        Ok(())
    }

    fn handle(&self, call: CallHandle) -> sip_ua::driver::Call {
        self.ua.call_handle(call)
    }

    /// The current call if it is incoming and not answered yet.
    fn ringing_call(&self) -> Result<CallHandle, String> {
        let call = self.current_call()?;
        match self.calls.get(&call) {
            Some(state) if state.incoming && !state.answered => Ok(call),
            _ => Err(format!("{call} is not ringing here")),
        }
    }
}
