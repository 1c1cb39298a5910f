"""What makes the registry a web application, shared by every domain's views: extensions,
security headers, error pages, the base form and the words of every problem code (messages),
template filters, plain pages, languages."""
