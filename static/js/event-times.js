// The server-rendered activity tables (templates/activity/event_table.html, on the home and settings pages) say
// when in words ("5 minutes ago"); this puts the full local date and time in each time's title, as the activity
// page does (the server knows only UTC).
for (const time of document.querySelectorAll("table.event-words time[datetime]")) {
  const date = new Date(time.getAttribute("datetime"));
  if (!isNaN(date)) time.title = date.toLocaleString();
}
