"""What makes the registry a web application, shared by every domain's views: extensions,
security headers, error pages, the base form, template filters, plain pages, languages."""
