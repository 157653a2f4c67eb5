import Foundation
import Testing
import UsherCore
import UsherStorage
import UsherTesting

@Suite("Storage conformance: actions, versions, trigger bindings")
struct ActionStorageConformanceTests {
    func sampleAction(_ name: String, id: String = UUID().uuidString.lowercased(), at: Date = epoch) -> Action {
        Action(
            id: id, name: name, supportedTriggers: [ActionTrigger(id: "post-login", version: "v3")],
            code: "exports.onExecutePostLogin = async (event, api) => { /* \(name) */ };",
            dependencies: [ActionDependency(name: "lodash", version: "4.17.21"), ActionDependency(name: "x", version: "1", registryURL: "https://r.example")],
            runtime: "node22", secrets: [ActionSecret(name: "API_KEY", value: "s3cr€t \"quoted\"", updatedAt: at)], createdAt: at, updatedAt: at)
    }

    func binding(_ action: Action, trigger: String = "post-login", name: String? = nil, secrets: [ActionSecret] = []) -> TriggerBinding {
        TriggerBinding(
            id: UUID().uuidString.lowercased(), triggerID: trigger, actionID: action.id, displayName: name ?? action.name, secrets: secrets,
            createdAt: epoch, updatedAt: epoch.addingTimeInterval(1))
    }

    @Test(arguments: StoreKind.available)
    func actionRoundTripUpdateAndUniqueName(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = sampleAction("first")
            try await store.insertAction(first)
            #expect(try await store.action(id: first.id) == first)
            #expect(try await store.action(name: "first") == first)
            #expect(try await store.action(id: "missing") == nil)

            await #expect(throws: UsherError.self) { try await store.insertAction(sampleAction("first")) }
            let second = sampleAction("second", at: epoch.addingTimeInterval(5))
            try await store.insertAction(second)
            #expect(try await store.listActions().map(\.name) == ["first", "second"])

            var changed = second
            changed.code = "exports.onExecutePostLogin = async () => {};"
            changed.secrets = []
            changed.allChangesDeployed = false
            changed.updatedAt = epoch.addingTimeInterval(60)
            try await store.updateAction(changed)
            #expect(try await store.action(id: second.id) == changed)

            changed.name = "first"
            do {
                try await store.updateAction(changed)
                Issue.record("a duplicate name must be refused")
            } catch let error as UsherError {
                #expect(error.kind == .conflict)
            }
            var ghost = sampleAction("ghost")
            ghost.id = "nope"
            do {
                try await store.updateAction(ghost)
                Issue.record("updating a missing action must fail")
            } catch let error as UsherError {
                #expect(error.kind == .notFound)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func deployNumbersVersionsAndSnapshotsTheDraft(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var action = sampleAction("deployable")
            try await store.insertAction(action)
            #expect(try await store.deployAction(id: "missing", versionID: "v-x", at: epoch) == nil)

            let v1 = try #require(try await store.deployAction(id: action.id, versionID: "v-1", at: epoch.addingTimeInterval(10)))
            #expect(v1.number == 1 && v1.code == action.code && v1.secrets == action.secrets && v1.dependencies == action.dependencies)
            #expect(v1.supportedTriggers == action.supportedTriggers && v1.runtime == "node22")
            action = try #require(try await store.action(id: action.id))
            #expect(action.deployedVersionID == "v-1" && action.allChangesDeployed)

            // A later draft edit does not touch the deployed version.
            action.code = "exports.onExecutePostLogin = async () => { /* v2 */ };"
            action.allChangesDeployed = false
            try await store.updateAction(action)
            #expect(try await store.actionVersion(id: "v-1")?.code == v1.code)

            let v2 = try #require(try await store.deployAction(id: action.id, versionID: "v-2", at: epoch.addingTimeInterval(20)))
            #expect(v2.number == 2 && v2.code == action.code)
            #expect(try await store.actionVersions(actionID: action.id).map(\.number) == [2, 1])
            #expect(try await store.actionVersion(id: "v-2") == v2)
            #expect(try await store.action(id: action.id)?.deployedVersionID == "v-2")
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentDeploysGetDistinctNumbers(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let action = sampleAction("raced")
            try await store.insertAction(action)
            let numbers = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<8 {
                    group.addTask { try await store.deployAction(id: action.id, versionID: "v-\(index)", at: epoch)?.number ?? -1 }
                }
                var numbers: [Int] = []
                for try await number in group { numbers.append(number) }
                return numbers
            }
            #expect(numbers.sorted() == Array(1...8))
        }
    }

    @Test(arguments: StoreKind.available)
    func bindingsReplaceKeepOrderAndJoinDeployedVersions(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let a = sampleAction("a")
            let b = sampleAction("b")
            let c = sampleAction("c")
            for action in [a, b, c] { try await store.insertAction(action) }
            _ = try await store.deployAction(id: a.id, versionID: "va", at: epoch)
            _ = try await store.deployAction(id: b.id, versionID: "vb", at: epoch)

            let bindingSecret = ActionSecret(name: "TOKEN", value: "binding-value", updatedAt: epoch)
            let first = [binding(b, name: "B first", secrets: [bindingSecret]), binding(a), binding(c)]
            try await store.replaceTriggerBindings(triggerID: "post-login", with: first)
            #expect(try await store.triggerBindings(triggerID: "post-login") == first)
            #expect(try await store.triggerBindings(triggerID: "credentials-exchange").isEmpty)

            // Only bindings whose Action has a deployed version run, in binding order.
            let bound = try await store.boundActionVersions(triggerID: "post-login")
            #expect(bound.map(\.actionName) == ["b", "a"])
            #expect(bound.map(\.version.id) == ["vb", "va"])
            #expect(bound[0].binding == first[0] && bound[0].version.secrets == b.secrets)

            // Replacing is total: the new list, in the new order.
            let second = [binding(a), binding(b)]
            try await store.replaceTriggerBindings(triggerID: "post-login", with: second)
            #expect(try await store.triggerBindings(triggerID: "post-login").map(\.actionID) == [a.id, b.id])
            try await store.replaceTriggerBindings(triggerID: "post-login", with: [])
            #expect(try await store.boundActionVersions(triggerID: "post-login").isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func deletingAnActionRemovesItsVersionsAndBindings(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let keep = sampleAction("keep")
            let drop = sampleAction("drop")
            for action in [keep, drop] {
                try await store.insertAction(action)
                _ = try await store.deployAction(id: action.id, versionID: "v-\(action.name)", at: epoch)
            }
            try await store.replaceTriggerBindings(triggerID: "post-login", with: [binding(drop), binding(keep)])
            #expect(try await store.deleteAction(id: drop.id))
            #expect(try await store.deleteAction(id: drop.id) == false)
            #expect(try await store.action(id: drop.id) == nil)
            #expect(try await store.actionVersions(actionID: drop.id).isEmpty)
            #expect(try await store.actionVersion(id: "v-drop") == nil)
            #expect(try await store.triggerBindings(triggerID: "post-login").map(\.actionID) == [keep.id])
            #expect(try await store.boundActionVersions(triggerID: "post-login").map(\.actionName) == ["keep"])
        }
    }
}
