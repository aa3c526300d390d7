from posada_audio.main import main

main()
