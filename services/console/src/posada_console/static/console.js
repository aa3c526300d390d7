// Keyboard shortcuts of the staff console (the pages work without this file):
//   "/"          focus the inbox search
//   Ctrl+Enter   send the reply (or the note) being written
document.addEventListener("keydown", function (event) {
  var target = event.target;
  var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  if (event.key === "/" && !typing) {
    var search = document.getElementById("search");
    if (search) { event.preventDefault(); search.focus(); }
  }
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target && target.tagName === "TEXTAREA" && target.form) {
    event.preventDefault();
    target.form.requestSubmit();
  }
});
