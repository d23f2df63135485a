// The console's browser app; built from Functions/Console/web (docs/console.md).
document.getElementById("app").textContent = "Qhaigc console";
