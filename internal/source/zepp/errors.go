package zepp

import "errors"

// Login failures, distinct so that the CLI can say what to do. They arrive
// wrapped in an errclass.Error of class ReAuth carrying a hint (or
// RateLimited for ErrTooManyLogins); test them with errors.Is.
var (
	ErrWrongPassword  = errors.New("wrong password")
	ErrUnknownAccount = errors.New("no Zepp account with this email in this region")
	ErrCaptcha        = errors.New("the login demands a captcha")
	ErrSecondFactor   = errors.New("the login demands a second factor")
	ErrLocked         = errors.New("the Zepp account is locked or disabled")
	ErrUnrecognised   = errors.New("unrecognised login response")
	ErrTooManyLogins  = errors.New("too many login attempts")
	// ErrNotLinked: no Zepp account is stored; run `bandsync auth zepp`.
	ErrNotLinked = errors.New("no Zepp account linked")
	// ErrLoginExpired: the stored login token can no longer renew the app token.
	ErrLoginExpired = errors.New("the Zepp login has expired")
)

// Workout failures, permanent for the one workout; test with errors.Is.
var (
	// ErrEncrypted: Zepp sent the detail encrypted (cipher_data), which the
	// reference does not describe well enough to decode.
	ErrEncrypted = errors.New("Zepp sent its detail encrypted (cipher_data), which bandsync cannot read yet")
	// ErrEmptyDetail: Zepp answered with a detail without any stream
	// although the workout is still listed (the symptom of a wrong source, §3.1).
	ErrEmptyDetail = errors.New("no stream at all in the detail")
)

// privacyPage is where a person gets an app token by hand (§1.2).
const privacyPage = "https://user.huami.com/privacy2/index.html?loginPlatform=web&platform_app=com.xiaomi.hm.health"

// Hints shown with the errors above.
const (
	hintAppToken = "use bandsync auth zepp --app-token-stdin: open " + privacyPage +
		" in a browser, click \"Export data\", log in (any login method works), then copy the value of the apptoken cookie (DevTools → Application → Cookies) and paste it"
	hintWrongPassword = "check the password and try again (Zepp locks the account after about 10 failed attempts); " +
		"accounts created with Apple, Google, Facebook or Xiaomi have no Zepp password: " + hintAppToken
	hintUnknownAccount = "check the email address; accounts signed in with Apple, Google, Facebook or Xiaomi cannot log in by email: " + hintAppToken
	hintChallenge      = "bandsync cannot answer that challenge; " + hintAppToken
	hintLocked         = "Zepp refuses this account after too many failed logins or because it is disabled: wait, reset the password in the Zepp app, or " + hintAppToken
	hintUnrecognised   = "Zepp's login may have changed; " + hintAppToken
	hintTooMany        = "wait a while before trying again (repeated logins can lock the account), or " + hintAppToken
	hintNotLinked      = "run bandsync auth zepp --email EMAIL, or " + hintAppToken
	hintReLogin        = "run bandsync auth zepp --email EMAIL again"
	hintRegion         = "Zepp refused the request on this region's host, which usually means the account lives in another region: run bandsync auth zepp again so bandsync finds it (or give --region)"
)
