import Synchronization
import Testing
import UsherLiquid

/// Host objects exposed lazily as drops.
@Suite("Drops")
struct DropTests {
    final class UserDrop: LiquidDrop {
        let lookups = Atomic<Int>(0)
        func liquidValue(forKey key: String) throws -> LiquidValue? {
            lookups.add(1, ordering: .relaxed)
            switch key {
            case "name": return "Ana <script>"
            case "email": return "ana@example.com"
            case "roles": return ["admin", "editor"]
            case "broken": throw HostError.unavailable
            default: return nil
            }
        }
        var liquidDescription: String { "user:ana" }
    }

    enum HostError: Error { case unavailable }

    @Test func propertiesResolveOnDemand() throws {
        let user = UserDrop()
        let out = TestSupport.render("{{ user.name | escape }}|{{ user.roles | join: ',' }}|{{ user.missing }}|{{ user }}", ["user": .drop(user)])
        #expect(out == "Ana &lt;script&gt;|admin,editor||user:ana")
        #expect(user.lookups.load(ordering: .relaxed) == 3)
        // A template that never touches the drop never calls it.
        let unused = UserDrop()
        _ = TestSupport.render("hello", ["user": .drop(unused)])
        #expect(unused.lookups.load(ordering: .relaxed) == 0)
    }

    @Test func dropErrorsBecomeRenderErrors() throws {
        let template = try LiquidTemplate.parse("a\n{{ user.broken }}")
        do {
            _ = try template.render(["user": .drop(UserDrop())])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .host)
            #expect(error.line == 2)
        }
    }

    @Test func lazyDropComputesEachPropertyOnce() throws {
        let calls = Atomic<Int>(0)
        let tenant = LiquidLazyDrop([
            "friendly_name": {
                calls.add(1, ordering: .relaxed)
                return "Acme"
            },
            "support_email": { "help@acme.example" },
        ])
        let template = try LiquidTemplate.parse("{{ tenant.friendly_name }} {{ tenant.friendly_name }} {{ tenant.support_email }}")
        #expect(try template.render(["tenant": .drop(tenant)]) == "Acme Acme help@acme.example")
        #expect(try template.render(["tenant": .drop(tenant)]) == "Acme Acme help@acme.example")
        #expect(calls.load(ordering: .relaxed) == 1)
        // Iteration and collection filters see the materialised hash.
        #expect(
            TestSupport.render("{% for p in tenant %}{{ p[0] }};{% endfor %}{{ tenant | size }}", ["tenant": .drop(tenant)])
                == "friendly_name;support_email;2")
        #expect(
            TestSupport.render("{{ tenant | json }}", ["tenant": .drop(tenant)])
                == #"{"friendly_name":"Acme","support_email":"help@acme.example"}"#)
    }

    @Test func fallbackDropResolvesGlobals() throws {
        let fallback = LiquidDynamicDrop { key in key == "tenant" ? "acme" : nil }
        let template = try LiquidTemplate.parse("{{ tenant }}/{{ other }}/{{ local }}")
        let out = try template.render(LiquidContext(["local": "l"], fallback: fallback))
        #expect(out == "acme//l")
    }

    @Test func dropsCompareByIdentity() {
        let a = UserDrop()
        let b = UserDrop()
        #expect(TestSupport.render("{% if a == a2 %}same{% endif %}{% if a == b %}x{% endif %}", ["a": .drop(a), "a2": .drop(a), "b": .drop(b)]) == "same")
    }

    @Test func templatesAreSharedAcrossConcurrentRenders() async throws {
        let template = try LiquidTemplate.parse("{% for i in (1..50) %}{{ name | upcase }}{{ i }}{% endfor %}")
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for n in 0..<32 {
                group.addTask { try template.render(["name": .string("user\(n)")]) }
            }
            var all: [String] = []
            for try await o in group { all.append(o) }
            return all
        }
        #expect(outputs.count == 32)
        #expect(Set(outputs).count == 32)
        #expect(outputs.allSatisfy { $0.hasPrefix("USER") && $0.hasSuffix("50") })
    }
}
