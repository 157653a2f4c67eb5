import CJavaScriptCore

/// Conversions between Swift strings and JavaScriptCore strings and values.
///
/// Strings go through UTF-16 both ways (JavaScriptCore's native encoding), so a NUL inside an Action's code
/// or a JSON string does not truncate it the way a C string would.
enum JSStrings {
    /// A new JSStringRef the caller must release.
    static func make(_ string: String) -> JSStringRef {
        let units = Array(string.utf16)
        return units.withUnsafeBufferPointer { JSStringCreateWithCharacters($0.baseAddress, $0.count) }
    }

    /// A new JSStringRef from raw UTF-16 units (may contain lone surrogates); the caller releases it.
    static func make(utf16 units: ArraySlice<UInt16>) -> JSStringRef {
        units.withUnsafeBufferPointer { JSStringCreateWithCharacters($0.baseAddress, $0.count) }
    }

    static func string(_ jsString: JSStringRef) -> String {
        let count = JSStringGetLength(jsString)
        guard count > 0, let chars = JSStringGetCharactersPtr(jsString) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: chars, count: count), as: UTF16.self)
    }

    /// `String(value)` in JavaScript terms; `nil` when the conversion itself throws or is terminated.
    static func string(_ ctx: JSContextRef, _ value: JSValueRef?) -> String? {
        guard let value else { return nil }
        var exception: JSValueRef?
        guard let jsString = JSValueToStringCopy(ctx, value, &exception) else { return nil }
        defer { JSStringRelease(jsString) }
        return string(jsString)
    }

    /// Runs `body` with a temporary JSStringRef for `string`.
    static func with<T>(_ string: String, _ body: (JSStringRef) -> T) -> T {
        let jsString = make(string)
        defer { JSStringRelease(jsString) }
        return body(jsString)
    }

    /// A property of `object` (no getters are expected on the objects this module reads).
    static func property(_ ctx: JSContextRef, _ object: JSValueRef?, _ name: String) -> JSValueRef? {
        guard let object, JSValueIsObject(ctx, object), let asObject = JSValueToObject(ctx, object, nil) else {
            return nil
        }
        return with(name) { JSObjectGetProperty(ctx, asObject, $0, nil) }
    }

    /// A numeric property as Int, when present and a number.
    static func intProperty(_ ctx: JSContextRef, _ object: JSValueRef?, _ name: String) -> Int? {
        guard let value = property(ctx, object, name), JSValueIsNumber(ctx, value) else { return nil }
        let number = JSValueToNumber(ctx, value, nil)
        guard number.isFinite, abs(number) < 1e15 else { return nil }
        return Int(number)
    }
}
