import Foundation

/// A verified address: the user as stored now, and where to send the browser (nil for Usher's own page).
public typealias EmailVerificationOutcome = (user: User, redirectURL: String?)
