/// Scopes of Usher's Management API, named as Auth0 names them.
public enum ManagementScope {
    /// Every scope Usher checks; the bootstrap application is granted all of them.
    public static let all: [String] = [
        "read:users", "create:users", "update:users", "delete:users", "update:users_app_metadata",
        "read:clients", "create:clients", "update:clients", "delete:clients", "read:client_keys",
        "read:client_grants", "create:client_grants", "update:client_grants", "delete:client_grants",
        "read:connections", "update:connections", "create:connections",
        "create:user_tickets",
        "read:invitations", "create:invitations", "update:invitations", "delete:invitations",
        "read:organization_invitations", "create:organization_invitations", "delete:organization_invitations",
        "read:roles", "create:roles", "update:roles", "delete:roles", "read:role_members", "create:role_members", "delete:role_members",
        "read:email_templates", "create:email_templates", "update:email_templates",
        "read:email_provider", "create:email_provider", "update:email_provider", "delete:email_provider",
        "read:email_outbox", "update:email_outbox",
        "read:actions", "create:actions", "update:actions", "delete:actions",
        "read:logs", "read:user_blocks", "update:user_blocks", "delete:user_blocks",
        "read:tenant_settings", "update:tenant_settings", "read:branding", "update:branding", "delete:branding",
        "read:prompts", "update:prompts",
    ]
}
