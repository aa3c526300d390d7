from posada_console.main import main

main()
